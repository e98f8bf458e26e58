/**
 * ENV: keys and values expanded; set in the image config's Env (a redefinition
 * keeps its place) and in the state's variables (over an earlier ARG of the
 * same name). History `ENV K=V…`.
 */
import type { EnvInstruction } from '../instructions/index.js';
import { setEnv, setVar, withConfig } from './build-state.js';
import type { Dispatcher } from './dispatch-context.js';
import { checkSecretKey } from './secrets.js';

export const dispatchEnv: Dispatcher<EnvInstruction> = (inst, state, ctx) => {
  const pairs: Array<[string, string]> = [];
  let s = state;
  // Every pair expands against the state before the instruction: `ENV A=1 B=$A`
  // gives B the old A (Docker's documented rule; BuildKit expands the whole command first).
  for (const kv of inst.env) {
    const key = ctx.expand(kv.key, state, inst.range);
    const value = ctx.expand(kv.value, state, inst.range);
    checkSecretKey('ENV', key, inst.range, ctx);
    pairs.push([key, value]);
    s = { ...withConfig(s, { Env: setEnv(s.config.Env, key, value) }), vars: setVar(s.vars, key, value, false) };
  }
  return { state: s, expanded: { kind: 'ENV', pairs }, createdBy: `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`, makesLayer: false };
};
