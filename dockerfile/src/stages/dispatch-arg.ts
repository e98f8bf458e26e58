/**
 * ARG inside a stage (BuildKit `dispatchArg`): the value is the `--build-arg`
 * if given, else the default expanded against the state, else — for a name
 * declared in the global scope (meta ARGs, platform ARGs) — the global value.
 * A value sets the variable in the state from this line on, over an ENV of
 * the same name (`d.state.AddEnv`); the image config's Env is left alone.
 * History `ARG K[=V]…`.
 */
import type { ArgInstruction } from '../instructions/index.js';
import { NON_ENV_ARGS, setVar, type BuildState } from './build-state.js';
import type { Dispatcher } from './dispatch-context.js';
import { checkSecretKey } from './secrets.js';

export const dispatchArg: Dispatcher<ArgInstruction> = (inst, state, ctx) => {
  const args: Array<[string, string | undefined]> = [];
  let s: BuildState = state;
  for (const def of inst.args) {
    checkSecretKey('ARG', def.name, inst.range, ctx);
    const fromBuildArg = ctx.buildArg(def.name);
    let value: string | undefined;
    if (fromBuildArg !== undefined) value = fromBuildArg;
    else if (def.default !== undefined) value = ctx.expand(def.default, s, inst.range);
    else value = ctx.metaArg(def.name);
    args.push([def.name, value]);
    s = { ...s, args: declare(s.args, def.name, value) };
    if (value !== undefined && !NON_ENV_ARGS.has(def.name)) s = { ...s, vars: setVar(s.vars, def.name, value, true) };
  }
  return {
    state: s,
    expanded: { kind: 'ARG', args },
    createdBy: `ARG ${args.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join(' ')}`,
    makesLayer: false,
  };
};

/** A redeclared name keeps its first place (runCommandString lists each name once, where it first appeared). */
function declare(args: BuildState['args'], name: string, value: string | undefined): BuildState['args'] {
  return args.some(([k]) => k === name) ? args.map((a) => (a[0] === name ? [name, value] as const : a)) : [...args, [name, value] as const];
}
