/**
 * ARG inside a stage (BuildKit `dispatchArg`): the value is the `--build-arg`
 * if given, else the default expanded against the state, else — for a name
 * declared in the global scope (meta ARGs, platform ARGs) — the global value.
 * History `ARG K[=V]…`.
 */
import type { ArgInstruction } from '../instructions/index.js';
import type { Dispatcher } from './dispatch-context.js';
import { checkSecretKey } from './secrets.js';

export const dispatchArg: Dispatcher<ArgInstruction> = (inst, state, ctx) => {
  const args: Array<[string, string | undefined]> = [];
  let declared = [...state.args];
  for (const def of inst.args) {
    checkSecretKey('ARG', def.name, inst.range, ctx);
    const fromBuildArg = ctx.buildArg(def.name);
    let value: string | undefined;
    if (fromBuildArg !== undefined) value = fromBuildArg;
    else if (def.default !== undefined) value = ctx.expand(def.default, { ...state, args: declared }, inst.range);
    else value = ctx.metaArg(def.name);
    args.push([def.name, value]);
    declared = [...declared.filter(([k]) => k !== def.name), [def.name, value]];
  }
  return {
    state: { ...state, args: declared },
    expanded: { kind: 'ARG', args },
    createdBy: `ARG ${args.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join(' ')}`,
    makesLayer: false,
  };
};
