/**
 * The slice of BuildKit's shell lexer (`shell.Lex.ProcessWords`) that heredoc
 * detection needs: quote handling and word splitting with an empty
 * environment and `SkipUnsetEnv`, so `$x` stays literal text. It is kept here,
 * not borrowed from the build-time lexer in `frontend/shell`, because the
 * parser must not depend on expansion and needs BuildKit's `RawQuotes` /
 * `RawEscapes` modes, which only heredoc detection uses. Escape token is
 * always `\` (BuildKit hard-codes it here too).
 */
import { isGoSpace } from './go-text.js';
import { LineError, ParseErrorCode } from './errors.js';

export interface HeredocLexOptions {
  /** Keep quote characters in the words. */
  rawQuotes: boolean;
  /** Keep escape characters in the words. */
  rawEscapes: boolean;
}

/** Splits `src` into shell words. Throws a LineError on an unterminated quote. */
export function lexWords(src: string, opts: HeredocLexOptions): string[] {
  const chars = Array.from(src);
  let pos = 0;
  const words: string[] = [];
  let word = '';
  let inWord = false;
  const addRaw = (s: string) => {
    word += s;
    inWord = true;
  };
  const addChar = (ch: string) => {
    if (isGoSpace(ch.codePointAt(0)!)) {
      if (inWord && word.length > 0) {
        words.push(word);
        word = '';
        inWord = false;
      }
    } else addRaw(ch);
  };

  const singleQuote = (): string => {
    let out = opts.rawQuotes ? "'" : '';
    pos++;
    for (;;) {
      if (pos >= chars.length) {
        throw new LineError('unexpected end of statement while looking for matching single-quote', ParseErrorCode.InvalidHeredoc);
      }
      const ch = chars[pos++]!;
      if (ch === "'") return out + (opts.rawQuotes ? "'" : '');
      out += ch;
    }
  };
  const doubleQuote = (): string => {
    let out = opts.rawQuotes ? '"' : '';
    pos++;
    for (;;) {
      if (pos >= chars.length) {
        throw new LineError('unexpected end of statement while looking for matching double-quote', ParseErrorCode.InvalidHeredoc);
      }
      let ch = chars[pos++]!;
      if (ch === '"') return out + (opts.rawQuotes ? '"' : '');
      if (ch === '\\') {
        const peek = chars[pos];
        if (peek === undefined) continue;
        if (peek === '"' || peek === '$' || peek === '\\') {
          if (opts.rawEscapes) out += ch;
          ch = chars[pos++]!;
        }
      }
      out += ch;
    }
  };

  while (pos < chars.length) {
    const ch = chars[pos]!;
    if (ch === "'") addRaw(singleQuote());
    else if (ch === '"') addRaw(doubleQuote());
    else if (ch === '<') {
      // BuildKit's processPossibleHeredoc: `<<` swallows the blanks after it,
      // so `<<  EOF` stays one word.
      pos++;
      if (chars[pos] !== '<') {
        addRaw('<');
        continue;
      }
      pos++;
      let blanks = '';
      while (pos < chars.length && isGoSpace(chars[pos]!.codePointAt(0)!)) blanks += chars[pos++];
      addRaw('<<' + blanks);
    }
    else {
      pos++;
      if (ch === '\\') {
        if (opts.rawEscapes) addRaw(ch);
        const escaped = chars[pos++];
        if (escaped === undefined) break;
        addRaw(escaped);
      } else addChar(ch);
    }
  }
  if (word.length > 0) words.push(word);
  return words;
}
