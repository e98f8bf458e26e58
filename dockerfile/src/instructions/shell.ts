/** SHELL ["executable", "param"…]: JSON form only (BuildKit `parseShell`). */
import type { ParseContext } from './context.js';
import { InstructionErrorCode } from './errors.js';
import type { ShellInstruction } from './types.js';

export function parseShell(ctx: ParseContext): ShellInstruction {
  const flags = ctx.noFlags();
  if (!ctx.json) ctx.fail(InstructionErrorCode.ShellNotJson, 'SHELL requires the arguments to be in JSON form');
  if (ctx.args.length === 0) ctx.fail(InstructionErrorCode.ArgumentCount, 'SHELL requires at least one argument');
  return { ...ctx.base('SHELL', flags), shell: [...ctx.args] };
}
