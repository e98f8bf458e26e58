/** SHELL: the JSON argv, not expanded. History `SHELL [/bin/bash -c]` (Go `%v`). */
import type { ShellInstruction } from '../instructions/index.js';
import { withConfig } from './build-state.js';
import type { Dispatcher } from './dispatch-context.js';
import { goSlice } from './go-format.js';

export const dispatchShell: Dispatcher<ShellInstruction> = (inst, state) => ({
  state: withConfig(state, { Shell: [...inst.shell] }),
  expanded: { kind: 'SHELL', shell: [...inst.shell] },
  createdBy: `SHELL ${goSlice(inst.shell)}`,
  makesLayer: false,
});
