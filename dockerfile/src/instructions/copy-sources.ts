/**
 * Sources and destination of COPY/ADD (BuildKit `parseSourcesAndDest`): the
 * last argument is the destination; in shell form a source that is a heredoc
 * word (`<<EOF`) becomes an inline file with that heredoc's body.
 */
import { parseHeredoc } from '../parser/index.js';
import type { ParseContext } from './context.js';
import { InstructionErrorCode } from './errors.js';
import { inlineFiles } from './run.js';
import type { InlineFile } from './types.js';

export function sourcesAndDest(ctx: ParseContext, name: 'COPY' | 'ADD'): { sources: string[]; inlineFiles: InlineFile[]; dest: string } {
  const args = ctx.args;
  if (args.length < 2) {
    const detail = args.length === 1 ? ', but only one was provided. Destination could not be determined' : '';
    ctx.fail(InstructionErrorCode.ArgumentCount, `${name} requires at least two arguments${detail}`);
  }
  const dest = args[args.length - 1]!;
  const bodies = new Map(inlineFiles(ctx).map((f) => [f.name, f]));
  const heredocOf = (word: string) => {
    if (ctx.json) return undefined;
    try {
      return parseHeredoc(word);
    } catch {
      return undefined;
    }
  };
  if (heredocOf(dest)) {
    ctx.fail(InstructionErrorCode.BadHeredoc, `${name} cannot use a heredoc as the destination`, ctx.argRangeOf(dest));
  }
  const sources: string[] = [];
  const files: InlineFile[] = [];
  for (const src of args.slice(0, -1)) {
    const h = heredocOf(src);
    const body = h && bodies.get(h.name);
    if (body) files.push({ ...body, expand: h.expand });
    else sources.push(src);
  }
  return { sources, inlineFiles: files, dest };
}
