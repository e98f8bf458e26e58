/**
 * The state of one expansion: BuildKit's `shellWord`. Reads a word character
 * by character, removes quotes and escapes, and hands `$` to
 * parameter-expansion.ts. One instance per call, never shared.
 */
import type { Env } from './env.js';
import { LexFailure } from './errors.js';
import { processDollar } from './parameter-expansion.js';
import { EOF, RuneScanner, isDigit, isLetter } from './scanner.js';
import { WordSplitter } from './words.js';

/** How a word is read; the defaults are what Dockerfile instructions use. */
export interface ShellLexOptions {
  /** The Dockerfile escape character (`# escape=`); default `\`. */
  escapeToken?: '\\' | '`';
  /** Keep the quote characters in the result (they still group and protect). */
  rawQuotes?: boolean;
  /** Keep the escape characters in the result (they still protect). */
  rawEscapes?: boolean;
  /** Leave references to unset variables as written (`$V`, `${V:-w}`) instead of expanding them. */
  skipUnsetEnv?: boolean;
  /** Treat `'` and `"` as ordinary characters. */
  skipProcessQuotes?: boolean;
}

export class WordProcessor {
  readonly scanner: RuneScanner;
  readonly escapeToken: string;
  readonly rawQuotes: boolean;
  readonly skipUnsetEnv: boolean;
  readonly skipProcessQuotes: boolean;
  rawEscapes: boolean;
  readonly matched = new Set<string>();
  readonly unmatched = new Set<string>();

  constructor(word: string, private readonly env: Env, options: ShellLexOptions) {
    this.scanner = new RuneScanner(word);
    this.escapeToken = options.escapeToken ?? '\\';
    this.rawQuotes = options.rawQuotes ?? false;
    this.rawEscapes = options.rawEscapes ?? false;
    this.skipUnsetEnv = options.skipUnsetEnv ?? false;
    this.skipProcessQuotes = options.skipProcessQuotes ?? false;
  }

  /**
   * Reads up to `stopChar` (consumed) or the end when `stopChar` is EOF.
   * A missing `stopChar` is an error. `rawEscapes` applies to this span only
   * (`${V#p}` and `${V/p/r}` keep escapes so the pattern can see them).
   */
  processStopOn(stopChar: string, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      return this.readUntil(stopChar);
    } finally {
      this.rawEscapes = saved;
    }
  }

  private readUntil(stopChar: string): { result: string; words: string[] } {
    const s = this.scanner;
    const words = new WordSplitter();
    let result = '';
    while (s.peek() !== EOF) {
      let ch = s.peek();
      if (stopChar !== EOF && ch === stopChar) {
        s.next();
        return { result, words: words.getWords() };
      }
      if (ch === '$') {
        const value = processDollar(this);
        result += value;
        words.addString(value);
      } else if (!this.skipProcessQuotes && (ch === "'" || ch === '"')) {
        const value = ch === "'" ? this.processSingleQuote() : this.processDoubleQuote();
        result += value;
        words.addRawString(value);
      } else {
        ch = s.next();
        if (ch === this.escapeToken) {
          if (this.rawEscapes) {
            words.addRawChar(ch);
            result += ch;
          }
          ch = s.next(); // escapes anything; a lone one at the end is dropped
          if (ch === EOF) break;
          words.addRawChar(ch);
        } else {
          words.addChar(ch);
        }
        result += ch;
      }
    }
    if (stopChar !== EOF) {
      throw new LexFailure('SHELL_SYNTAX', `unexpected end of statement while looking for matching ${stopChar}`);
    }
    return { result, words: words.getWords() };
  }

  /** `'…'`: everything literal up to the next `'`; there is no escape inside. */
  private processSingleQuote(): string {
    const s = this.scanner;
    let result = '';
    const open = s.next();
    if (this.rawQuotes) result += open;
    for (;;) {
      const ch = s.next();
      if (ch === EOF) throw new LexFailure('SHELL_SYNTAX', 'unexpected end of statement while looking for matching single-quote');
      if (ch === "'") return this.rawQuotes ? result + ch : result;
      result += ch;
    }
  }

  /** `"…"`: `$` expands; the escape token escapes only `"`, `$` and itself, else stays literal. */
  private processDoubleQuote(): string {
    const s = this.scanner;
    let result = '';
    const open = s.next();
    if (this.rawQuotes) result += open;
    for (;;) {
      const peek = s.peek();
      if (peek === EOF) throw new LexFailure('SHELL_SYNTAX', 'unexpected end of statement while looking for matching double-quote');
      if (peek === '"') {
        const close = s.next();
        return this.rawQuotes ? result + close : result;
      }
      if (peek === '$') {
        result += processDollar(this);
        continue;
      }
      let ch = s.next();
      if (ch === this.escapeToken) {
        if (this.rawEscapes) result += ch;
        const after = s.peek();
        if (after === EOF) continue; // a trailing escape is ignored (then the quote is unterminated)
        if (after === '"' || after === '$' || after === this.escapeToken) ch = s.next();
      }
      result += ch;
    }
  }

  /**
   * A variable name after `$`: letters, digits and `_`; or a run of digits
   * (positional, always unset); or one special parameter character
   * (`@ * # ? - $ ! 0`, always unset). "" when none.
   */
  processName(): string {
    const s = this.scanner;
    let name = '';
    while (s.peek() !== EOF) {
      const ch = s.peek();
      if (name.length === 0 && isDigit(ch)) {
        while (s.peek() !== EOF && isDigit(s.peek())) name += s.next();
        return name;
      }
      if (name.length === 0 && SPECIAL_PARAMS.has(ch)) return s.next();
      if (!isLetter(ch) && !isDigit(ch) && ch !== '_') break;
      name += s.next();
    }
    return name;
  }

  /** Looks `name` up and records it as matched or unmatched. */
  getEnv(name: string): string | undefined {
    const value = this.env.get(name);
    if (value === undefined) this.unmatched.add(name);
    else this.matched.add(name);
    return value;
  }
}

const SPECIAL_PARAMS = new Set(['@', '*', '#', '?', '-', '$', '!', '0']);
