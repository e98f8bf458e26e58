/** ENTRYPOINT <command>: like CMD, including the JSONArgsRecommended warning. */
import { execOrWarn } from './cmd.js';
import type { ConvertContext } from './context.js';
import type { EntrypointInstruction } from './types.js';

export function convertEntrypoint(ctx: ConvertContext): EntrypointInstruction {
  return { ...ctx.base('ENTRYPOINT', ctx.noFlags()), command: execOrWarn(ctx, 'ENTRYPOINT') };
}
