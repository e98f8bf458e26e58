/** LABEL k=v … | LABEL k v (legacy). */
import type { ParseContext } from './context.js';
import { keyValues } from './key-values.js';
import type { LabelInstruction } from './types.js';

export function parseLabel(ctx: ParseContext): LabelInstruction {
  const { pairs, legacy } = keyValues(ctx, 'LABEL');
  return { ...ctx.base('LABEL', ctx.noFlags()), labels: pairs, legacyFormat: legacy };
}
