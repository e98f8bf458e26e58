/**
 * The immutable per-stage build state (BuildKit's `dispatchState` minus the
 * LLB): the image config under construction, ARGs in scope, the state's
 * environment (what expansion and RUN see) and history.
 * Every change returns a new state; a step keeps the snapshot it ran with.
 */
import type { ContainerConfig, HistoryEntry, Platform } from '@tsbuild/core';
import type { Env } from '../shell/index.js';
import type { StepState } from './types.js';

/** One variable of the build state's environment, and whether an ARG (not an ENV) set it last. */
export interface StateVar {
  readonly name: string;
  readonly value: string;
  readonly fromArg: boolean;
}

export interface BuildState {
  readonly config: Readonly<ContainerConfig>;
  /**
   * ARGs in scope with their values (undefined: declared without one), in the
   * order first declared (a redeclaration keeps its place, as the `|N K=V`
   * prefix of RUN's history does). A stage built on another stage starts with
   * that stage's ARGs (BuildKit `dispatchState.init` appends `base.buildArgs`).
   */
  readonly args: ReadonlyArray<readonly [string, string | undefined]>;
  /**
   * BuildKit's `d.state` environment (llb.State's EnvList): the base config's
   * Env, then every ENV and every ARG with a value, in order; a name set again
   * moves to the end with its new value. Expansion in every instruction and
   * RUN's process see this, so an ARG with a value after an ENV of the same
   * name wins from that line on. The image config's Env only ever gets ENV
   * (convert.go: `dispatchEnv` calls `AddEnv` and `addEnv(d.image.Config.Env)`,
   * `dispatchArg` only `d.state.AddEnv`).
   */
  readonly vars: readonly StateVar[];
  readonly history: readonly HistoryEntry[];
  readonly platform: Platform;
  /** Set when CMD was written in this stage (ENTRYPOINT then keeps it). */
  readonly cmdSet: boolean;
  /** MAINTAINER, the image's `author`. */
  readonly author?: string;
  /**
   * Whether the base image's environment is known (scratch, a stage, or a
   * config from `baseImageConfig`). When it is not, a `$VAR` may come from the
   * image, so UndefinedVar is not reported.
   */
  readonly baseEnvKnown: boolean;
  /** Set once WORKDIR ran in this stage (WorkdirRelativePath checks only the first). */
  readonly workdirSet?: boolean;
}

/**
 * The state a stage starts from. `inherit`: the final state of the stage it
 * is built on — BuildKit's child takes the base's `state` (ARG values
 * included) and `buildArgs`, then applies the config's Env over them again
 * (`dispatchStages`: "initialize base metadata from image conf"), so a
 * parent's ARG-only variable reaches the child, while an ENV of the same name
 * wins over the parent's ARG.
 */
export function initialState(
  config: ContainerConfig, platform: Platform, baseEnvKnown = true, inherit?: Pick<BuildState, 'args' | 'vars'>,
): BuildState {
  let vars = inherit?.vars ?? [];
  for (const e of config.Env ?? []) vars = setVar(vars, envKey(e), e.slice(envKey(e).length + 1), false);
  return { config: { ...config }, args: inherit?.args ?? [], vars, history: [], platform, cmdSet: false, baseEnvKnown };
}

/** EnvList.AddOrReplace: the name moves to the end with its new value. */
export function setVar(vars: readonly StateVar[], name: string, value: string, fromArg: boolean): StateVar[] {
  return [...vars.filter((v) => v.name !== name), { name, value, fromArg }];
}

/**
 * ARGs BuildKit never puts in the environment (convert.go `nonEnvArgs`): they
 * only switch SBOM scanning for a stage.
 */
export const NON_ENV_ARGS: ReadonlySet<string> = new Set(['BUILDKIT_SBOM_SCAN_CONTEXT', 'BUILDKIT_SBOM_SCAN_STAGE']);

export function withConfig(s: BuildState, patch: Partial<ContainerConfig>): BuildState {
  return { ...s, config: { ...s.config, ...patch } };
}

export function withHistory(s: BuildState, entry: HistoryEntry): BuildState {
  return { ...s, history: [...s.history, entry] };
}

/** Sets `K=V` in an env list, keeping the position of an existing K (Docker's order). */
export function setEnv(env: readonly string[] | undefined, key: string, value: string): string[] {
  const out = [...(env ?? [])];
  const i = out.findIndex((e) => envKey(e) === key);
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}

const envKey = (entry: string): string => {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry : entry.slice(0, eq);
};

/**
 * The lookup instructions expand against (BuildKit `getEnv(d.state)`): the
 * state's variables, whichever of ENV and ARG set a name last; ARGs without
 * a value are unset.
 */
export function expansionEnv(s: BuildState): Env {
  const map = new Map(s.vars.map((v) => [v.name, v.value]));
  const keys = [...map.keys()];
  return { get: (n) => map.get(n), keys: () => keys };
}

function defaultShell(platform: Platform): string[] {
  return platform.os === 'windows' ? ['cmd', '/S', '/C'] : ['/bin/sh', '-c'];
}

/**
 * The state a step runs with. RUN's process gets `env`, then each of `args`
 * whose name `env` lacks: so `env` holds the variables an ENV set last, and a
 * name an ARG set last after an ENV is left out of it for its ARG value to
 * take its place (and a changed --build-arg stays a change of `args` alone).
 */
export function snapshot(s: BuildState): StepState {
  return {
    env: s.vars.filter((v) => !v.fromArg).map((v) => `${v.name}=${v.value}`),
    args: s.args.flatMap(([k, v]): Array<[string, string]> => {
      // A redeclaration without a value (`ARG V` again) keeps the value the state has.
      const current = s.vars.find((x) => x.name === k);
      const value = current?.fromArg ? current.value : v;
      return value === undefined || NON_ENV_ARGS.has(k) ? [] : [[k, value]];
    }),
    workdir: s.config.WorkingDir || '/',
    user: s.config.User ?? '',
    shell: s.config.Shell ? [...s.config.Shell] : defaultShell(s.platform),
  };
}
