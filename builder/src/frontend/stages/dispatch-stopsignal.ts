/** STOPSIGNAL: expanded into the config. History `STOPSIGNAL <sig>`. */
import type { StopsignalInstruction } from '../instructions/index.js';
import { withConfig } from './build-state.js';
import type { Dispatcher } from './dispatch-context.js';

export const dispatchStopsignal: Dispatcher<StopsignalInstruction> = (inst, state, ctx) => {
  const signal = ctx.expand(inst.signal, state, inst.range);
  return {
    state: withConfig(state, { StopSignal: signal }),
    expanded: { kind: 'STOPSIGNAL', signal },
    createdBy: `STOPSIGNAL ${signal}`,
    makesLayer: false,
  };
};
