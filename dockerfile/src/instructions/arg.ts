/** ARG <name>[=<default>] … (several per line). Defaults stay raw. */
import type { ParseContext } from './context.js';
import { InstructionErrorCode } from './errors.js';
import type { ArgDefinition, ArgInstruction } from './types.js';

export function parseArg(ctx: ParseContext): ArgInstruction {
  if (ctx.args.length === 0) ctx.fail(InstructionErrorCode.ArgumentCount, 'ARG requires at least one argument');
  const args: ArgDefinition[] = ctx.args.map((word, i) => {
    const eq = word.indexOf('=');
    if (eq < 0) return { name: word };
    if (eq === 0) ctx.fail(InstructionErrorCode.ArgumentCount, 'ARG names can not be blank', ctx.argRange(i));
    return { name: word.slice(0, eq), default: word.slice(eq + 1) };
  });
  return { ...ctx.base('ARG', ctx.noFlags()), args };
}
