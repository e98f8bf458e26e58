/**
 * The one place the CLI calls the builder's `build`, and where it makes the
 * builder's dependencies (the store at `root`, an executor for `runtime`).
 * The command and the programmatic API both go through here, so a remote
 * builder (the server's RemoteBuilder, same signature) can slot in at one spot.
 */
import { join } from 'node:path';
import { build, type BuildDeps, type BuildOptions, type BuildResult } from '@tsbuild/builder';
import { createExecutor } from '@tsbuild/runtime';
import type { Store } from '@tsbuild/store';
import { openStoreReclaiming } from './reclaim.js';

type BuildFn = (options: BuildOptions, deps: BuildDeps) => Promise<BuildResult>;

export function builderBuild(): BuildFn {
  return build;
}

export interface DepsOptions {
  root?: string;
  /** `crun`, `runc` or a path; default crun, then runc, on PATH. */
  runtime?: string;
  store?: Store;
  signal?: AbortSignal;
  onWarning?: (message: string) => void;
}

/** Opens the store (unless given) and an executor whose cache mounts live in the store. */
export async function openBuildDeps(options: DepsOptions): Promise<BuildDeps> {
  const store = options.store ?? await openStoreReclaiming({
    ...(options.root !== undefined ? { root: options.root } : {}),
    ...(options.onWarning ? { onWarning: (w: { message: string }) => options.onWarning!(w.message) } : {}),
  });
  const cacheMountsDir = join(store.root, 'cache-mounts');
  const executor = await createExecutor(
    { ...(options.runtime ? { runtime: options.runtime } : {}), cacheMountsDir },
    options.signal ? { signal: options.signal } : {},
  );
  return { store, executor, cacheMountsDir };
}
