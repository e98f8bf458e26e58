/** STOPSIGNAL <signal> — raw (`SIGTERM`, `9`, `$SIG`); validated after expansion. */
import type { ParseContext } from './context.js';
import { singleValue } from './single-value.js';
import type { StopsignalInstruction } from './types.js';

export function parseStopsignal(ctx: ParseContext): StopsignalInstruction {
  return { ...ctx.base('STOPSIGNAL', ctx.noFlags()), signal: singleValue(ctx, 'STOPSIGNAL') };
}
