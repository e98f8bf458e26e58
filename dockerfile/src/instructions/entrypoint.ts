/** ENTRYPOINT <command>: like CMD, including the JSONArgsRecommended warning. */
import { execOrWarn } from './cmd.js';
import type { ParseContext } from './context.js';
import type { EntrypointInstruction } from './types.js';

export function parseEntrypoint(ctx: ParseContext): EntrypointInstruction {
  return { ...ctx.base('ENTRYPOINT', ctx.noFlags()), command: execOrWarn(ctx, 'ENTRYPOINT') };
}
