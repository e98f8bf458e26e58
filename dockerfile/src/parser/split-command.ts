/**
 * Splits an instruction line into keyword, builder flags and the rest
 * (BuildKit `split_command.go`). The flag scanner works on bytes, exactly as
 * the Go code does (`rune(line[pos])`), so multi-byte text inside a flag is
 * treated the same way — a latin1 view of the UTF-8 bytes gives that for free.
 */
import { isGoSpace, splitWhitespaceOnce, trimSpace } from './go-text.js';

export interface SplitCommand {
  /** The keyword as written. */
  cmd: string;
  flags: string[];
  /** The text after keyword and flags, trimmed. */
  args: string;
}

export function splitCommand(line: string): SplitCommand {
  const parts = splitWhitespaceOnce(trimSpace(line));
  const cmd = parts[0] ?? '';
  if (parts.length < 2) return { cmd, flags: [], args: '' };
  const { rest, flags } = extractBuilderFlags(parts[1]!);
  return { cmd, flags, args: trimSpace(rest) };
}

/** Parses leading `--flag[=value]` words (quotes and `\` processed); a bare `--` ends them. */
export function extractBuilderFlags(line: string): { rest: string; flags: string[] } {
  const bytes = Buffer.from(line, 'utf8');
  const restAt = (pos: number) => bytes.subarray(pos).toString('utf8');
  const words: string[] = [];
  let phase: 'spaces' | 'word' | 'quote' = 'spaces';
  let word = '';
  let quote = 0;
  let blankOK = false;
  let ch = 0;
  for (let pos = 0; pos <= bytes.length; pos++) {
    if (pos !== bytes.length) ch = bytes[pos]!;
    if (phase === 'spaces') {
      if (pos === bytes.length) break;
      if (isGoSpace(ch)) continue;
      if (ch !== 0x2d || pos + 1 === bytes.length || bytes[pos + 1] !== 0x2d) {
        return { rest: restAt(pos), flags: words };
      }
      phase = 'word';
    }
    if (pos === bytes.length) {
      if (word !== '--' && (blankOK || word.length > 0)) words.push(latin1ToUtf8(word));
      break;
    }
    if (phase === 'word') {
      if (isGoSpace(ch)) {
        phase = 'spaces';
        if (word === '--') return { rest: restAt(pos), flags: words };
        if (blankOK || word.length > 0) words.push(latin1ToUtf8(word));
        word = '';
        blankOK = false;
        continue;
      }
      if (ch === 0x27 || ch === 0x22) {
        quote = ch;
        blankOK = true;
        phase = 'quote';
        continue;
      }
      if (ch === 0x5c) {
        if (pos + 1 === bytes.length) continue;
        pos++;
        ch = bytes[pos]!;
      }
      word += String.fromCharCode(ch);
      continue;
    }
    // in a quote
    if (ch === quote) {
      phase = 'word';
      continue;
    }
    if (ch === 0x5c) {
      if (pos + 1 === bytes.length) {
        phase = 'word';
        continue;
      }
      pos++;
      ch = bytes[pos]!;
    }
    word += String.fromCharCode(ch);
  }
  return { rest: '', flags: words };
}

/**
 * Go writes each byte as the rune U+00XX; for well-formed input that has
 * not split a multi-byte sequence, re-reading the bytes as UTF-8 gives the
 * text people wrote, which is what every realistic flag value needs.
 */
function latin1ToUtf8(s: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(s) ? s : Buffer.from(s, 'latin1').toString('utf8');
}
