/** WORKDIR <path> — raw; expanded and resolved against the previous WORKDIR later. */
import type { ConvertContext } from './context.js';
import { singleValue } from './single-value.js';
import type { WorkdirInstruction } from './types.js';

export function convertWorkdir(ctx: ConvertContext): WorkdirInstruction {
  return { ...ctx.base('WORKDIR', ctx.noFlags()), path: singleValue(ctx, 'WORKDIR') };
}
