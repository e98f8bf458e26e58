/**
 * Heredoc detection (BuildKit `ParseHeredoc`, `heredocsFromLine`). Only the
 * words of RUN/COPY/ADD (also under ONBUILD) in shell form are looked at;
 * the parser then reads each body from the following lines.
 */
import { lexWords } from './heredoc-lexer.js';
import type { Heredoc } from './node.js';

// Go RE2 `\s` is [\t\n\f\r ].
const reHeredoc = /^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)$/s;

/** Keywords whose shell form can carry heredocs, and the compound one that can hold them. */
export const heredocKeywords = new Set(['run', 'copy', 'add']);
export const heredocCompoundKeywords = new Set(['onbuild']);

/**
 * One word → its heredoc, or undefined when the word is not one
 * (`<<`, `<EOF`, `<<EOF sh`). Throws on unbalanced quotes (`<<'EOF`).
 */
export function parseHeredoc(word: string): Omit<Heredoc, 'content'> | undefined {
  const m = reHeredoc.exec(word);
  if (!m) return undefined;
  const rest = m[3]!;
  if (rest.length === 0) return undefined;
  const words = lexWords(rest, { rawQuotes: false, rawEscapes: false });
  if (words.length !== 1) return undefined;
  const raw = lexWords(rest, { rawQuotes: true, rawEscapes: false });
  const name = words[0]!;
  // Quotes anywhere in the word (`<<'EOF'`, `<<E"O"F`) switch expansion off:
  // they show up as extra quote characters in the raw lexing.
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return {
    name,
    fileDescriptor: m[1] ? Number.parseInt(m[1], 10) : 0,
    expand: quotes(name) === quotes(raw[0] ?? ''),
    chomp: m[2] === '-',
  };
}

/** The heredocs announced on an instruction line, in order. */
export function heredocsFromLine(line: string): Array<Omit<Heredoc, 'content'>> {
  let words: string[];
  try {
    words = lexWords(line, { rawQuotes: true, rawEscapes: true });
  } catch {
    return []; // BuildKit ignores the lexer error here (`words, _ :=`)
  }
  const out: Array<Omit<Heredoc, 'content'>> = [];
  for (const word of words) {
    const h = parseHeredoc(word);
    if (h) out.push(h);
  }
  return out;
}

/** Removes leading tabs from every line (what `<<-` means for the body). */
export function chompHeredocContent(content: string): string {
  // Go's (?m)^ starts a line only after \n (JavaScript's also after \r, U+2028…).
  return content.replace(/(?<![^\n])\t+/g, '');
}
