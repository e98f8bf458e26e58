/**
 * A code-point reader with Go `text/scanner` Peek/Next semantics, which
 * BuildKit's lexer is written against: characters are whole code points (so
 * `?` in a pattern or a name character is never half a surrogate pair), a
 * byte-order mark at the very start is skipped, and the end reads as `EOF`.
 */
export const EOF = '';

export class RuneScanner {
  private readonly runes: string[];
  private pos = 0;

  constructor(text: string) {
    this.runes = Array.from(text.startsWith('\uFEFF') ? text.slice(1) : text);
  }

  /** The next character without consuming it, or EOF. */
  peek(): string {
    return this.runes[this.pos] ?? EOF;
  }

  /** Consumes and returns the next character, or EOF (repeatedly) at the end. */
  next(): string {
    const ch = this.runes[this.pos] ?? EOF;
    if (ch !== EOF) this.pos++;
    return ch;
  }
}

/** Go `unicode.IsSpace`: the Unicode White_Space property (includes U+0085, U+00A0). */
export function isSpace(ch: string): boolean {
  return /^\p{White_Space}$/u.test(ch);
}

/** Go `unicode.IsLetter`. */
export function isLetter(ch: string): boolean {
  return /^\p{L}$/u.test(ch);
}

/** Go `unicode.IsDigit`: decimal digits of any script. */
export function isDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}
