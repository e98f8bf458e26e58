/** ENV k=v … | ENV k v (legacy). Values stay raw; the stage graph expands them. */
import type { ParseContext } from './context.js';
import { keyValues } from './key-values.js';
import type { EnvInstruction } from './types.js';

export function parseEnv(ctx: ParseContext): EnvInstruction {
  const { pairs, legacy } = keyValues(ctx, 'ENV');
  return { ...ctx.base('ENV', ctx.noFlags()), env: pairs, legacyFormat: legacy };
}
