/**
 * The global scope: automatic platform ARGs, ARGs before the first FROM
 * (meta ARGs) with `--build-arg` overrides, and the proxy ARGs BuildKit
 * accepts without a declaration. Only FROM lines expand against it; a stage
 * sees a global value after `ARG NAME` re-declares it.
 */
import { formatPlatform, normalizePlatform, type Platform } from '@tsbuild/core';
import type { ArgInstruction } from '../instructions/index.js';
import type { Env } from '../shell/index.js';
import type { Expander } from './expand.js';

/** Build args BuildKit accepts without an ARG: passed to RUN's environment, never in history or cache keys. */
export const PROXY_ARGS = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
] as const;

/**
 * BuildKit's automatic platform ARGs (dockerfile2llb/platform.go `defaultArgs`):
 * `TARGETSTAGE` is `--target` as given, else the last stage's name, else
 * `default`; a `--build-arg` of the same name replaces any of them.
 */
export function platformArgs(
  buildPlatform: Platform, targetPlatform: Platform, targetStage: string, buildArgs: ReadonlyMap<string, string> = new Map(),
): Array<[string, string]> {
  // Normalized first, as BuildKit's are (`linux/arm64`, TARGETVARIANT empty, not `linux/arm64/v8`).
  const build = normalizePlatform(buildPlatform);
  const target = normalizePlatform(targetPlatform);
  const args: Array<[string, string]> = [
    ['BUILDPLATFORM', formatPlatform(build)], ['BUILDOS', build.os], ['BUILDOSVERSION', build['os.version'] ?? ''],
    ['BUILDARCH', build.architecture], ['BUILDVARIANT', build.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(target)], ['TARGETOS', target.os], ['TARGETOSVERSION', target['os.version'] ?? ''],
    ['TARGETARCH', target.architecture], ['TARGETVARIANT', target.variant ?? ''], ['TARGETSTAGE', targetStage || 'default'],
  ];
  return args.map(([k, v]) => [k, buildArgs.get(k) ?? v]);
}

export interface GlobalScope {
  /** Value of each global name (undefined: declared without value); platform ARGs first. */
  readonly values: ReadonlyMap<string, string | undefined>;
  /** The same with meta ARG defaults only (no `--build-arg`): for InvalidDefaultArgInFrom. */
  readonly defaults: ReadonlyMap<string, string | undefined>;
  /** Names that count as declared for FROM (platform ARGs and meta ARGs). */
  readonly declared: ReadonlySet<string>;
  env(which?: 'values' | 'defaults'): Env;
}

export function globalScope(
  metaArgs: readonly ArgInstruction[], platform: Array<[string, string]>, buildArgs: ReadonlyMap<string, string>,
  used: Set<string>, expander: Expander,
): GlobalScope {
  const values = new Map<string, string | undefined>(platform);
  const defaults = new Map<string, string | undefined>(platform);
  const declared = new Set(platform.map(([k]) => k));
  for (const inst of metaArgs) {
    for (const def of inst.args) {
      const overridden = buildArgs.get(def.name);
      if (overridden !== undefined) used.add(def.name);
      const dflt = def.default === undefined ? undefined : expander.expand(def.default, envOf(values), inst.range, declared).result;
      const dfltOnly = def.default === undefined ? undefined : expander.expand(def.default, envOf(defaults), inst.range, declared, false).result;
      // BuildKit buildMetaArgs: a redeclaration without a value keeps the value an earlier one gave.
      const value = overridden ?? dflt;
      if (value !== undefined || !values.has(def.name)) values.set(def.name, value);
      if (dfltOnly !== undefined || !defaults.has(def.name)) defaults.set(def.name, dfltOnly);
      declared.add(def.name);
    }
  }
  return { values, defaults, declared, env: (which = 'values') => envOf(which === 'values' ? values : defaults) };
}

function envOf(map: ReadonlyMap<string, string | undefined>): Env {
  const set = new Map<string, string>();
  for (const [k, v] of map) if (v !== undefined) set.set(k, v);
  const keys = [...set.keys()];
  return { get: (n) => set.get(n), keys: () => keys };
}
