/** VOLUME: each path expanded; an empty one is an error (as in BuildKit). History `VOLUME [/a /b]`. */
import type { VolumeInstruction } from '../instructions/index.js';
import { withConfig } from './build-state.js';
import { StageErrorCode, type Dispatcher } from './dispatch-context.js';
import { goSlice } from './go-format.js';

export const dispatchVolume: Dispatcher<VolumeInstruction> = (inst, state, ctx) => {
  const volumes = inst.volumes.map((v) => ctx.expand(v, state, inst.range));
  const Volumes = { ...(state.config.Volumes ?? {}) };
  for (const v of volumes) {
    if (v.trim() === '') ctx.fail(StageErrorCode.InvalidValue, 'VOLUME specified can not be an empty string', inst.range);
    Volumes[v] = {};
  }
  return { state: withConfig(state, { Volumes }), expanded: { kind: 'VOLUME', volumes }, createdBy: `VOLUME ${goSlice(volumes)}`, makesLayer: false };
};
