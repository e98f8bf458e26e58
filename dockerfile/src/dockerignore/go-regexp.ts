/**
 * Translates the Go (RE2) regular expressions that patternmatcher builds into
 * equivalent JavaScript ones, so that a pattern matches exactly the paths it
 * matches in BuildKit and fails to compile exactly when Go's does (e.g. the
 * out-of-order range in `[Local-Only]`).
 *
 * Covered: literals, `.` (never a newline in Go), `^ $ * + ? ( ) |`, classes
 * with Go's rules (a leading `]` is literal, `[` inside is literal, POSIX
 * `[:name:]`, ranges checked for order), and Go's escapes (punctuation,
 * `\a \f \t \n \r \v`, octal, `\x`, `\d \w \s` and their negations, `\b \B
 * \A \z`). `\p`, `\Q…\E` and `\C` are reported as unsupported (never produced
 * by a .dockerignore in practice). Throws GoRegexpError on anything Go rejects.
 */
export class GoRegexpError extends Error {}

const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\x00-\\x7F', blank: '\\t ', cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-\\/:-@\\[-`\\{-~', space: '\\t-\\r ',
  upper: 'A-Z', word: '0-9A-Za-z_', xdigit: '0-9A-Fa-f',
};
const PERL_IN_CLASS: Record<string, string> = { d: '0-9', s: '\\t\\n\\f\\r ', w: '0-9A-Za-z_' };

/** One character as a JS regexp atom that is valid inside and outside classes. */
function lit(cp: number): string {
  return /[\p{L}\p{N}_]/u.test(String.fromCodePoint(cp)) ? String.fromCodePoint(cp) : `\\u{${cp.toString(16)}}`;
}

export function goRegexpToJs(src: string): RegExp {
  const t = Array.from(src);
  let i = 0;
  let out = '';

  /** Go `parseEscape` after the backslash: a single character's code point. */
  const escapeChar = (): number => {
    const c = t[i++];
    if (c === undefined) throw new GoRegexpError('trailing backslash at end of expression');
    const code = c.codePointAt(0)!;
    if (code < 0x80 && !/[0-9A-Za-z]/.test(c)) return code;
    const simple: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };
    if (c in simple) return simple[c]!;
    if (c >= '0' && c <= '7') {
      if (c !== '0' && !(t[i] !== undefined && t[i]! >= '0' && t[i]! <= '7')) throw new GoRegexpError(`invalid escape sequence: \\${c}`);
      let r = code - 48;
      for (let n = 1; n < 3 && t[i] !== undefined && t[i]! >= '0' && t[i]! <= '7'; n++) r = r * 8 + t[i++]!.charCodeAt(0) - 48;
      return r;
    }
    if (c === 'x') {
      if (t[i] === '{') {
        const end = t.indexOf('}', i);
        const hex = t.slice(i + 1, end).join('');
        if (end < 0 || !/^[0-9A-Fa-f]+$/.test(hex) || parseInt(hex, 16) > 0x10ffff) throw new GoRegexpError('invalid escape sequence: \\x');
        i = end + 1;
        return parseInt(hex, 16);
      }
      const hex = (t[i] ?? '') + (t[i + 1] ?? '');
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw new GoRegexpError('invalid escape sequence: \\x');
      i += 2;
      return parseInt(hex, 16);
    }
    throw new GoRegexpError(`invalid escape sequence: \\${c}`);
  };

  const unsupported = (c: string | undefined): void => {
    if (c === 'p' || c === 'P' || c === 'Q' || c === 'C') throw new GoRegexpError(`unsupported escape \\${c}`);
  };

  const parseClass = (): string => {
    let body = '';
    if (t[i] === '^') {
      body += '^';
      i++;
    }
    let first = true;
    while (first || t[i] !== ']') {
      if (i >= t.length) throw new GoRegexpError('missing closing ]');
      first = false;
      if (t[i] === '[' && t[i + 1] === ':') {
        const end = t.indexOf(']', i);
        const m = /^\[:(\^?)([a-z]+):\]$/.exec(t.slice(i, end + 1).join(''));
        if (m && POSIX[m[2]!] !== undefined) {
          if (m[1]) throw new GoRegexpError('unsupported negated POSIX class');
          body += POSIX[m[2]!];
          i = end + 1;
          continue;
        }
      }
      if (t[i] === '\\' && t[i + 1] !== undefined && 'dsw'.includes(t[i + 1]!.toLowerCase())) {
        const c = t[i + 1]!;
        if (c === 'S') throw new GoRegexpError('unsupported \\S in a class');
        body += c === c.toLowerCase() ? PERL_IN_CLASS[c] : `\\${c}`;
        i += 2;
        continue;
      }
      const lo = classChar();
      let hi = lo;
      if (t[i] === '-' && t[i + 1] !== undefined && t[i + 1] !== ']') {
        i++;
        hi = classChar();
        if (hi < lo) throw new GoRegexpError('invalid character class range');
      }
      body += lo === hi ? lit(lo) : `${lit(lo)}-${lit(hi)}`;
    }
    i++; // the closing ]
    return `[${body}]`;
  };

  const classChar = (): number => {
    const c = t[i];
    if (c === undefined) throw new GoRegexpError('missing closing ]');
    i++;
    if (c === '\\') {
      unsupported(t[i]);
      return escapeChar();
    }
    return c.codePointAt(0)!;
  };

  while (i < t.length) {
    const c = t[i++]!;
    if (c === '\\') {
      const e = t[i];
      unsupported(e);
      const direct: Record<string, string> = { d: '\\d', D: '\\D', w: '\\w', W: '\\W', b: '\\b', B: '\\B', A: '^', z: '$', s: '[\\t\\n\\f\\r ]', S: '[^\\t\\n\\f\\r ]' };
      if (e !== undefined && direct[e] !== undefined) {
        out += direct[e];
        i++;
      } else {
        out += lit(escapeChar());
      }
    } else if (c === '[') out += parseClass();
    else if (c === '.') out += '[^\\n]';
    else if ('^$*+?()|'.includes(c)) out += c;
    else out += lit(c.codePointAt(0)!);
  }
  try {
    return new RegExp(out, 'u');
  } catch (err) {
    throw new GoRegexpError((err as Error).message);
  }
}
