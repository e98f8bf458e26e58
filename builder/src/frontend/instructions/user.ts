/** USER <user>[:<group>] — raw; expanded later. */
import type { ConvertContext } from './context.js';
import { singleValue } from './single-value.js';
import type { UserInstruction } from './types.js';

export function convertUser(ctx: ConvertContext): UserInstruction {
  return { ...ctx.base('USER', ctx.noFlags()), user: singleValue(ctx, 'USER') };
}
