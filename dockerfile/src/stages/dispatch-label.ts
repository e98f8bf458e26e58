/** LABEL: keys and values expanded into the config's Labels. History `LABEL K=V…`. */
import type { LabelInstruction } from '../instructions/index.js';
import { withConfig } from './build-state.js';
import type { Dispatcher } from './dispatch-context.js';

export const dispatchLabel: Dispatcher<LabelInstruction> = (inst, state, ctx) => {
  const pairs: Array<[string, string]> = inst.labels.map((kv) => [ctx.expand(kv.key, state, inst.range), ctx.expand(kv.value, state, inst.range)]);
  const Labels = { ...(state.config.Labels ?? {}) };
  for (const [k, v] of pairs) Labels[k] = v;
  return {
    state: withConfig(state, { Labels }),
    expanded: { kind: 'LABEL', pairs },
    createdBy: `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`,
    makesLayer: false,
  };
};
