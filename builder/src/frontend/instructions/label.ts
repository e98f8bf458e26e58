/** LABEL k=v … | LABEL k v (legacy). */
import type { ConvertContext } from './context.js';
import { keyValues } from './key-values.js';
import type { LabelInstruction } from './types.js';

export function convertLabel(ctx: ConvertContext): LabelInstruction {
  const { pairs, legacy } = keyValues(ctx, 'LABEL');
  return { ...ctx.base('LABEL', ctx.noFlags()), labels: pairs, legacyFormat: legacy };
}
