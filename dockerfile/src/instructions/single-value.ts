/** The instructions that take exactly one verbatim value (BuildKit `parseString` + `errExactlyOneArgument`). */
import type { ParseContext } from './context.js';
import { InstructionErrorCode } from './errors.js';

export function singleValue(ctx: ParseContext, name: string): string {
  if (ctx.args.length !== 1) ctx.fail(InstructionErrorCode.ArgumentCount, `${name} requires exactly one argument`);
  return ctx.args[0]!;
}
