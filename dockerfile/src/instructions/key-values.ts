/**
 * ENV and LABEL share BuildKit's `parseNameVal` chain: (key, value, sep)
 * triples, sep "" for the legacy `KEY value` form (LegacyKeyValueFormat).
 */
import type { ParseContext } from './context.js';
import { InstructionErrorCode } from './errors.js';
import type { KeyValue } from './types.js';

export function keyValues(ctx: ParseContext, name: 'ENV' | 'LABEL'): { pairs: KeyValue[]; legacy: boolean } {
  const a = ctx.args;
  if (a.length === 0) ctx.fail(InstructionErrorCode.ArgumentCount, `${name} requires at least one argument`);
  const pairs: KeyValue[] = [];
  let legacy = false;
  for (let i = 0; i < a.length; i += 3) {
    pairs.push({ key: a[i]!, value: a[i + 1] ?? '' });
    if (a[i + 2] === '') legacy = true;
  }
  if (legacy) {
    ctx.warn('LegacyKeyValueFormat', `"${name} key=value" should be used instead of legacy "${name} key value" format`);
  }
  return { pairs, legacy };
}
