/**
 * HEALTHCHECK NONE | HEALTHCHECK [--interval] [--timeout] [--start-period]
 * [--start-interval] [--retries] CMD <command> (BuildKit `parseHealthcheck`).
 * Durations follow Go's time.ParseDuration; 0 means "inherit", anything else
 * must be at least 1ms.
 */
import { commandForm } from './command-form.js';
import type { ParseContext } from './context.js';
import { parseGoDuration } from './durations.js';
import { InstructionErrorCode } from './errors.js';
import type { FlagValues } from './flags.js';
import type { HealthcheckInstruction, HealthcheckOptions } from './types.js';

const MIN_DURATION_NS = 1e6;

export function parseHealthcheck(ctx: ParseContext): HealthcheckInstruction {
  const flags = ctx.flags({
    interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string',
  });
  const args = ctx.args;
  if (args.length === 0) ctx.fail(InstructionErrorCode.ArgumentCount, 'HEALTHCHECK requires at least one argument');
  const type = args[0]!.toUpperCase();
  if (type === 'NONE') {
    if (args.length !== 1) ctx.fail(InstructionErrorCode.InvalidHealthcheck, 'HEALTHCHECK NONE takes no arguments');
    return { ...ctx.base('HEALTHCHECK', flags), test: { type: 'NONE' }, options: {} };
  }
  if (type !== 'CMD') {
    ctx.fail(InstructionErrorCode.InvalidHealthcheck, `Unknown type ${JSON.stringify(args[0])} in HEALTHCHECK (try CMD)`, ctx.argRange(0));
  }
  if (args.length < 2) ctx.fail(InstructionErrorCode.InvalidHealthcheck, 'Missing command after HEALTHCHECK CMD');
  const options: HealthcheckOptions = {};
  const durations = [['interval', 'interval'], ['timeout', 'timeout'], ['start-period', 'startPeriod'], ['start-interval', 'startInterval']] as const;
  for (const [flag, key] of durations) {
    const ns = interval(ctx, flags, flag);
    if (ns !== undefined) options[key] = ns;
  }
  const retries = flags.string('retries');
  if (retries !== undefined && retries !== '') {
    if (!/^[+-]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2 ** 31 - 1) {
      ctx.fail(InstructionErrorCode.BadFlagValue, `invalid value for --retries: ${JSON.stringify(retries)}`, flags.range('retries'));
    }
    const n = Number(retries);
    if (n < 0) ctx.fail(InstructionErrorCode.BadFlagValue, `--retries cannot be negative (${n})`, flags.range('retries'));
    options.retries = n;
  }
  return {
    ...ctx.base('HEALTHCHECK', flags),
    test: { type: 'CMD', command: commandForm(args.slice(1), ctx.json) },
    options,
  };
}

function interval(ctx: ParseContext, flags: FlagValues, name: string): number | undefined {
  const value = flags.string(name);
  if (value === undefined || value === '') return undefined;
  let ns: number;
  try {
    ns = parseGoDuration(value);
  } catch (err) {
    ctx.fail(InstructionErrorCode.InvalidDuration, (err as Error).message, flags.range(name));
  }
  if (ns !== 0 && ns < MIN_DURATION_NS) {
    ctx.fail(InstructionErrorCode.InvalidDuration, `Interval ${JSON.stringify(name)} cannot be less than 1ms`, flags.range(name));
  }
  return ns;
}
