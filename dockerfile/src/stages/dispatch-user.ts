/** USER: expanded into the config. History `USER <user>`. */
import type { UserInstruction } from '../instructions/index.js';
import { withConfig } from './build-state.js';
import type { Dispatcher } from './dispatch-context.js';

export const dispatchUser: Dispatcher<UserInstruction> = (inst, state, ctx) => {
  const user = ctx.expand(inst.user, state, inst.range);
  return { state: withConfig(state, { User: user }), expanded: { kind: 'USER', user }, createdBy: `USER ${user}`, makesLayer: false };
};
