/** STOPSIGNAL: expanded into the config. History `STOPSIGNAL <sig>`. */
import type { StopsignalInstruction } from '../instructions/index.js';
import { withConfig } from './build-state.js';
import { StageErrorCode, type Dispatcher } from './dispatch-context.js';

const SIGNALS = new Set(['ABRT', 'ALRM', 'BUS', 'CHLD', 'CLD', 'CONT', 'FPE', 'HUP', 'ILL', 'INT', 'IO', 'IOT', 'KILL', 'PIPE', 'POLL', 'PROF',
  'PWR', 'QUIT', 'SEGV', 'STKFLT', 'STOP', 'SYS', 'TERM', 'TRAP', 'TSTP', 'TTIN', 'TTOU', 'UNUSED', 'URG', 'USR1', 'USR2', 'VTALRM',
  'WINCH', 'XCPU', 'XFSZ']);

/** moby's `signal.ParseSignal`: a number, a name with or without `SIG`, or `RTMIN+n`/`RTMAX-n`. */
export function isSignal(s: string): boolean {
  if (/^\d+$/.test(s)) return Number(s) > 0;
  const name = s.toUpperCase().replace(/^SIG/, '');
  return SIGNALS.has(name) || /^RT(MIN|MAX)([+-]\d+)?$/.test(name);
}

export const dispatchStopsignal: Dispatcher<StopsignalInstruction> = (inst, state, ctx) => {
  const signal = ctx.expand(inst.signal, state, inst.range);
  if (!isSignal(signal)) ctx.fail(StageErrorCode.InvalidValue, `Invalid signal: ${signal}`, inst.range);
  return {
    state: withConfig(state, { StopSignal: signal }),
    expanded: { kind: 'STOPSIGNAL', signal },
    createdBy: `STOPSIGNAL ${signal}`,
    makesLayer: false,
  };
};
