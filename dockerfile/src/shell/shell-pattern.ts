/**
 * The wildcard patterns of `${V#p}`, `${V%p}` and `${V/p/r}`: `*` is any run of
 * characters, `?` one character, `\*` `\?` `\\` are literal, and `\}` `\/` are
 * the word's own delimiters escaped (the backslash is dropped). No bracket
 * expressions. Mirrors BuildKit's `convertShellPatternToRegex`, which compiles
 * to a Go (RE2) regexp; the JS regexp built here matches the same strings
 * (Go's `.` never matches a newline, hence `[^\n]`).
 */
import { LexFailure } from './errors.js';
import { RuneScanner, EOF } from './scanner.js';

const REGEX_SPECIAL = new Set(['[', ']', '{', '}', '.', '+', '(', ')', '|', '^', '$']);

/** Compiles `pattern`; `greedy` picks longest `*` matches, `anchored` matches only at the start. */
export function shellPatternToRegExp(pattern: string, greedy: boolean, anchored: boolean, flags = 'u'): RegExp {
  const s = new RuneScanner(pattern);
  let out = anchored ? '^' : '';
  const star = greedy ? '[^\\n]*' : '[^\\n]*?';
  for (let tok = s.next(); tok !== EOF; tok = s.next()) {
    if (tok === '*') out += star;
    else if (tok === '?') out += '[^\\n]';
    else if (tok === '\\') {
      if (s.peek() === '}' || s.peek() === '/') continue;
      const escaped = s.next();
      if (escaped !== '*' && escaped !== '?' && escaped !== '\\') {
        throw badPattern(pattern, escaped === EOF ? "trailing '\\'" : `invalid escape '\\${escaped}'`);
      }
      out += `\\${escaped}`;
    } else if (REGEX_SPECIAL.has(tok)) out += `\\${tok}`;
    else if (tok === '/') out += '\\/';
    else out += tok;
  }
  return new RegExp(out, flags);
}

function badPattern(pattern: string, why: string): LexFailure {
  return new LexFailure('SHELL_BAD_PATTERN', `invalid pattern (${pattern}) in substitution: ${why}`);
}

/** `${V#p}` / `${V##p}`: removes the shortest (longest if greedy) prefix of `value` matching `pattern`. */
export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPatternToRegExp(pattern, greedy, true).exec(value);
  return m ? value.slice(m.index + m[0].length) : value;
}

/**
 * `${V%p}` / `${V%%p}`: removes the shortest (longest) suffix. Like BuildKit,
 * both the pattern (keeping escapes attached) and the value are reversed so
 * that a leftmost match finds the rightmost suffix.
 */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const trimmed = trimPrefix(reversePattern(pattern), reverseRunes(value), greedy);
  return reverseRunes(trimmed);
}

/** Reverses a pattern without separating an escape from its character: `a\*c` → `c\*a`. */
export function reversePattern(pattern: string): string {
  const runes = Array.from(pattern);
  const out = new Array<string>(runes.length);
  const last = runes.length - 1;
  for (let i = 0; i <= last; ) {
    const tok = runes[i]!;
    const at = last - i;
    if (tok === '\\' && i !== last) {
      out[at - 1] = tok;
      out[at] = runes[i + 1]!;
      i += 2;
    } else {
      out[at] = tok;
      i++;
    }
  }
  return out.join('');
}

function reverseRunes(text: string): string {
  return Array.from(text).reverse().join('');
}

/** `${V/p/r}`: replaces the first match; `r` is inserted literally. */
export function replaceFirst(pattern: string, value: string, replacement: string): string {
  const m = shellPatternToRegExp(pattern, true, false).exec(value);
  if (!m) return value;
  return value.slice(0, m.index) + replacement + value.slice(m.index + m[0].length);
}

/**
 * `${V//p/r}`: Go `Regexp.ReplaceAllString`, exactly: an empty match right
 * after a previous match is not replaced, and `$` in `r` is a template
 * (`$$` → `$`, `$name`/`${name}` → "" since the pattern has no groups, any
 * other `$` stays literal).
 */
export function replaceAll(pattern: string, value: string, replacement: string): string {
  const re = shellPatternToRegExp(pattern, true, false, 'gu');
  const repl = expandTemplate(replacement);
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= value.length) {
    re.lastIndex = searchPos;
    const m = re.exec(value);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    out += value.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += repl;
    lastMatchEnd = end;
    const width = searchPos < value.length ? (value.codePointAt(searchPos)! > 0xffff ? 2 : 1) : 0;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + value.slice(lastMatchEnd);
}

/** Go `Regexp.Expand` for a regexp without capture groups. */
function expandTemplate(template: string): string {
  return template.replace(/\$(\$|\{[\p{L}\p{Nd}_]+\}|[\p{L}\p{Nd}_]+)?/gu, (_whole, ref: string | undefined) => {
    if (ref === undefined) return '$';
    return ref === '$' ? '$' : '';
  });
}
