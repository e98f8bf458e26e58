/**
 * The immutable per-stage build state (BuildKit's `dispatchState` minus the
 * LLB): the image config under construction, ARGs in scope and history.
 * Every change returns a new state; a step keeps the snapshot it ran with.
 */
import type { ContainerConfig, HistoryEntry, Platform } from '@tsbuild/core';
import type { Env } from '../shell/index.js';
import type { StepState } from './types.js';

export interface BuildState {
  readonly config: Readonly<ContainerConfig>;
  /** ARGs declared in the stage, with their values (undefined: declared without value). */
  readonly args: ReadonlyArray<readonly [string, string | undefined]>;
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

export function initialState(config: ContainerConfig, platform: Platform, baseEnvKnown = true): BuildState {
  return { config: { ...config }, args: [], history: [], platform, cmdSet: false, baseEnvKnown };
}

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

export function getEnvValue(env: readonly string[] | undefined, key: string): string | undefined {
  for (const e of env ?? []) if (envKey(e) === key) return e.slice(key.length + 1);
  return undefined;
}

/**
 * The lookup instructions expand against: ENV wins over an ARG of the same
 * name (Docker's documented rule), ARGs without a value are unset.
 */
export function expansionEnv(s: BuildState): Env {
  const map = new Map<string, string>();
  for (const [k, v] of s.args) if (v !== undefined) map.set(k, v);
  for (const e of s.config.Env ?? []) map.set(envKey(e), e.slice(envKey(e).length + 1));
  const keys = [...map.keys()];
  return { get: (n) => map.get(n), keys: () => keys };
}

export function defaultShell(platform: Platform): string[] {
  return platform.os === 'windows' ? ['cmd', '/S', '/C'] : ['/bin/sh', '-c'];
}

export function snapshot(s: BuildState): StepState {
  return {
    env: [...(s.config.Env ?? [])],
    args: s.args.filter((a): a is readonly [string, string] => a[1] !== undefined).map(([k, v]) => [k, v]),
    workdir: s.config.WorkingDir || '/',
    user: s.config.User ?? '',
    shell: s.config.Shell ? [...s.config.Shell] : defaultShell(s.platform),
  };
}
