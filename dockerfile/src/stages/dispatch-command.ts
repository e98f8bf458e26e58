/**
 * CMD and ENTRYPOINT: never expanded; shell form is wrapped in the stage's
 * shell. ENTRYPOINT clears an inherited CMD unless CMD was set earlier in
 * this stage (BuildKit's `cmdSet`). History `CMD ["a" "b"]` (Go `%q`).
 */
import type { CmdInstruction, CommandForm, EntrypointInstruction } from '../instructions/index.js';
import { snapshot, type BuildState } from './build-state.js';
import type { Dispatcher } from './dispatch-context.js';
import { goQuoteSlice } from './go-format.js';

const argv = (c: CommandForm, state: BuildState): string[] =>
  c.form === 'shell' ? [...snapshot(state).shell, c.command] : [...c.args];

/** The config with `key` set to `command`, or without it when empty: BuildKit's Cmd/Entrypoint are `omitempty`. */
function setCommand(config: BuildState['config'], key: 'Cmd' | 'Entrypoint', command: string[]): BuildState['config'] {
  if (command.length > 0) return { ...config, [key]: command };
  const { [key]: _old, ...rest } = config;
  return rest;
}

export const dispatchCmd: Dispatcher<CmdInstruction> = (inst, state) => {
  const command = argv(inst.command, state);
  return {
    // ArgsEscaped as BuildKit sets it for CMD (Docker image-spec compatibility).
    state: { ...state, config: { ...setCommand(state.config, 'Cmd', command), ArgsEscaped: true }, cmdSet: true },
    expanded: { kind: 'CMD', command },
    createdBy: `CMD ${goQuoteSlice(command)}`,
    makesLayer: false,
  };
};

export const dispatchEntrypoint: Dispatcher<EntrypointInstruction> = (inst, state) => {
  const command = argv(inst.command, state);
  // The inherited CMD is dropped, not nulled: BuildKit's config omits an empty Cmd (`omitempty`).
  const { Cmd: _inherited, ...withoutCmd } = state.config;
  return {
    state: { ...state, config: setCommand(state.cmdSet ? state.config : withoutCmd, 'Entrypoint', command) },
    expanded: { kind: 'ENTRYPOINT', command },
    createdBy: `ENTRYPOINT ${goQuoteSlice(command)}`,
    makesLayer: false,
  };
};
