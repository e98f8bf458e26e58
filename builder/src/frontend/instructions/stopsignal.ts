/** STOPSIGNAL <signal> — raw (`SIGTERM`, `9`, `$SIG`); validated after expansion. */
import type { ConvertContext } from './context.js';
import { singleValue } from './single-value.js';
import type { StopsignalInstruction } from './types.js';

export function convertStopsignal(ctx: ConvertContext): StopsignalInstruction {
  return { ...ctx.base('STOPSIGNAL', ctx.noFlags()), signal: singleValue(ctx, 'STOPSIGNAL') };
}
