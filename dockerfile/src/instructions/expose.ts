/** EXPOSE <port>[/<proto>]… — raw specs, validated after expansion. */
import type { ParseContext } from './context.js';
import { InstructionErrorCode } from './errors.js';
import type { ExposeInstruction } from './types.js';

export function parseExpose(ctx: ParseContext): ExposeInstruction {
  if (ctx.args.length === 0) ctx.fail(InstructionErrorCode.ArgumentCount, 'EXPOSE requires at least one argument');
  return { ...ctx.base('EXPOSE', ctx.noFlags()), ports: [...ctx.args] };
}
