/** VOLUME ["/a", "/b"] | VOLUME /a /b. */
import type { ParseContext } from './context.js';
import { InstructionErrorCode } from './errors.js';
import type { VolumeInstruction } from './types.js';

export function parseVolume(ctx: ParseContext): VolumeInstruction {
  if (ctx.args.length === 0) ctx.fail(InstructionErrorCode.ArgumentCount, 'VOLUME requires at least one argument');
  ctx.args.forEach((v, i) => {
    if (v.trim() === '') ctx.fail(InstructionErrorCode.ArgumentCount, 'VOLUME specified can not be an empty string', ctx.argRange(i));
  });
  return { ...ctx.base('VOLUME', ctx.noFlags()), volumes: [...ctx.args] };
}
