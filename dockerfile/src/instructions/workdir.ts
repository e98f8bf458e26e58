/** WORKDIR <path> — raw; expanded and resolved against the previous WORKDIR later. */
import type { ParseContext } from './context.js';
import { singleValue } from './single-value.js';
import type { WorkdirInstruction } from './types.js';

export function parseWorkdir(ctx: ParseContext): WorkdirInstruction {
  return { ...ctx.base('WORKDIR', ctx.noFlags()), path: singleValue(ctx, 'WORKDIR') };
}
