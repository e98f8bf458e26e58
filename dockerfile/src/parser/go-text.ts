/**
 * Go standard-library text helpers the reference parser relies on, reproduced
 * exactly: `unicode.IsSpace`, `strings.TrimSpace`, `strconv.Quote`. BuildKit's
 * output (AST dumps, word splits) depends on their precise definitions, which
 * differ from JavaScript's `\s` and `trim()` at the edges (U+0085, U+FEFF, \v).
 */

/** Go `unicode.IsSpace`. */
export function isGoSpace(cp: number): boolean {
  if (cp <= 0xff) {
    return cp === 0x20 || (cp >= 0x09 && cp <= 0x0d) || cp === 0x85 || cp === 0xa0;
  }
  return (
    cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 ||
    cp === 0x202f || cp === 0x205f || cp === 0x3000
  );
}

/** Go `strings.TrimLeftFunc(s, unicode.IsSpace)`. */
export function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length) {
    const cp = s.codePointAt(i)!;
    if (!isGoSpace(cp)) break;
    i += cp > 0xffff ? 2 : 1;
  }
  return s.slice(i);
}

/** Go `strings.TrimRightFunc(s, unicode.IsSpace)`. */
export function trimRightSpace(s: string): string {
  let end = s.length;
  while (end > 0) {
    const cp = s.codePointAt(end - 1)!;
    // a low surrogate: look at the whole pair
    if (cp >= 0xdc00 && cp <= 0xdfff && end > 1) {
      const pair = s.codePointAt(end - 2)!;
      if (pair > 0xffff) {
        if (!isGoSpace(pair)) break;
        end -= 2;
        continue;
      }
    }
    if (!isGoSpace(cp)) break;
    end -= 1;
  }
  return s.slice(0, end);
}

/** Go `strings.TrimSpace`. */
export function trimSpace(s: string): string {
  return trimRightSpace(trimLeftSpace(s));
}

/** BuildKit's `reWhitespace` / `tokenWhitespace`: runs of `[\t\v\f\r ]`. */
export const reWhitespace = /[\t\v\f\r ]+/;

/** Go `regexp.Split(s, -1)` with {@link reWhitespace}. */
export function splitWhitespace(s: string): string[] {
  return s.split(/[\t\v\f\r ]+/);
}

/** Go `regexp.Split(s, 2)` with {@link reWhitespace}: at most two parts. */
export function splitWhitespaceOnce(s: string): string[] {
  const m = reWhitespace.exec(s);
  if (!m) return [s];
  return [s.slice(0, m.index), s.slice(m.index + m[0].length)];
}

const printable = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

const shortEscapes: Record<number, string> = {
  0x07: '\\a', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x0b: '\\v',
  0x22: '\\"', 0x5c: '\\\\',
};

/**
 * Go `strconv.Quote`: the quoting used by BuildKit's `Node.Dump()`.
 * Lone surrogates (which only arise from malformed input) are written as
 * `\uFFFD`, as Go would see U+FFFD after decoding invalid UTF-8.
 */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const short = shortEscapes[cp];
    if (short !== undefined) out += short;
    else if (cp === 0x20 || (cp > 0x20 && cp < 0x7f)) out += ch;
    else if (cp < 0x20 || cp === 0x7f) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else if (printable.test(ch)) out += ch;
    else if (cp > 0xffff) out += '\\U' + cp.toString(16).padStart(8, '0');
    else out += '\\u' + cp.toString(16).padStart(4, '0');
  }
  return out + '"';
}
