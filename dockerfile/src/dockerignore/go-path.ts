/**
 * Go's `path/filepath` helpers on Unix, which .dockerignore semantics are
 * defined by: `Clean`, `Dir`, and the syntax check of `Match`. Paths use `/`.
 */

/** Go `strings.TrimSpace`: Unicode White_Space (unlike JS `trim`, U+0085 yes, U+FEFF no). */
export function goTrimSpace(text: string): string {
  return text.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
}

/**
 * Go `filepath.Clean`: collapses `//`, drops `.` elements, resolves `..`
 * lexically (a rooted path cannot climb above `/`), drops a trailing `/`;
 * "" becomes ".".
 */
export function cleanPath(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const joined = (rooted ? '/' : '') + out.join('/');
  return joined === '' ? '.' : joined;
}

/** Go `filepath.Dir`: everything before the last `/`, cleaned ("a" → ".", "/" → "/"). */
export function dirPath(path: string): string {
  return cleanPath(path.slice(0, path.lastIndexOf('/') + 1));
}

/**
 * Whether Go's `filepath.Match` would reject `pattern` with ErrBadPattern
 * (`syntax error in pattern`). Match validates every chunk of the pattern,
 * so the answer does not depend on the name: a `[...]` class needs at least
 * one item and a closing `]`, an item is a character or `\x` (never a bare
 * `-` or `]`), a range is `lo-hi` (the order is not checked), and a trailing
 * `\` is an error.
 */
export function isBadFilepathPattern(pattern: string): boolean {
  const p = Array.from(pattern);
  let i = 0;
  const getEsc = (): boolean => {
    if (i >= p.length || p[i] === '-' || p[i] === ']') return false;
    if (p[i] === '\\') {
      i++;
      if (i >= p.length) return false;
    }
    i++;
    return i < p.length; // a class item must be followed by more of the class
  };
  while (i < p.length) {
    const ch = p[i]!;
    if (ch === '*' || ch === '?') {
      i++;
    } else if (ch === '[') {
      i++;
      if (p[i] === '^') i++;
      for (let nrange = 0; ; nrange++) {
        if (p[i] === ']' && nrange > 0) {
          i++;
          break;
        }
        if (!getEsc()) return true;
        if (p[i] === '-') {
          i++;
          if (!getEsc()) return true;
        }
      }
    } else if (ch === '\\') {
      i += 2;
      if (i > p.length) return true;
    } else {
      i++;
    }
  }
  return false;
}
