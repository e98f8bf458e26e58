/**
 * ONBUILD: the trigger text is stored in the config's OnBuild for images
 * built FROM this one; it does nothing here and adds no history (BuildKit).
 * MAINTAINER: sets the image author; history `MAINTAINER <name>`.
 */
import type { MaintainerInstruction, OnbuildInstruction } from '../instructions/index.js';
import { withConfig } from './build-state.js';
import type { Dispatcher } from './dispatch-context.js';

export const dispatchOnbuild: Dispatcher<OnbuildInstruction> = (inst, state) => ({
  state: withConfig(state, { OnBuild: [...(state.config.OnBuild ?? []), inst.expression] }),
  expanded: { kind: 'ONBUILD', value: inst.expression },
  createdBy: undefined,
  makesLayer: false,
});

export const dispatchMaintainer: Dispatcher<MaintainerInstruction> = (inst, state) => ({
  state: { ...state, author: inst.maintainer },
  expanded: { kind: 'MAINTAINER', value: inst.maintainer },
  createdBy: `MAINTAINER ${inst.maintainer}`,
  makesLayer: false,
});
