/** USER <user>[:<group>] — raw; expanded later. */
import type { ParseContext } from './context.js';
import { singleValue } from './single-value.js';
import type { UserInstruction } from './types.js';

export function parseUser(ctx: ParseContext): UserInstruction {
  return { ...ctx.base('USER', ctx.noFlags()), user: singleValue(ctx, 'USER') };
}
