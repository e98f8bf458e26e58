/**
 * The one place the CLI calls the builder's `build`, and where it makes the
 * builder's dependencies (the store at `root`, an executor for `runtime`).
 * `build` is looked up at call time so the CLI compiles and its other
 * commands (--print, --check) work in a checkout whose builder does not
 * export it yet; then a build fails with one clear line.
 */
import { join } from 'node:path';
import * as builder from '@tsbuild/builder';
import type { BuildDeps, BuildOptions, BuildResult } from '@tsbuild/builder';
import { FailedPreconditionError } from '@tsbuild/core';
import { createExecutor } from '@tsbuild/runtime';
import { openStore, type Store } from '@tsbuild/store';

type BuildFn = (options: BuildOptions, deps: BuildDeps) => Promise<BuildResult>;

export function builderBuild(): BuildFn {
  const fn = (builder as unknown as { build?: BuildFn }).build;
  if (typeof fn !== 'function') {
    throw new FailedPreconditionError('this tsbuild has no builder: @tsbuild/builder does not export build()', { code: 'BUILDER_MISSING' });
  }
  return fn;
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
  const store = options.store ?? await openStore({
    ...(options.root !== undefined ? { root: options.root } : {}),
    ...(options.onWarning ? { onWarning: (w: { message: string }) => options.onWarning!(w.message) } : {}),
  });
  const executor = await createExecutor(
    { ...(options.runtime ? { runtime: options.runtime } : {}), cacheMountsDir: join(store.root, 'cache-mounts') },
    options.signal ? { signal: options.signal } : {},
  );
  return { store, executor };
}
