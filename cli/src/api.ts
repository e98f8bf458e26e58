/**
 * The programmatic build API, `import { build } from 'tsbuild'`: the same
 * build as `tsbuild build`, with the store and the executor opened for you.
 *
 *   const result = await build({ context: 'app', tags: ['app:dev'], onEvent: (e) => … });
 *
 * Images the store lacks are pulled (docker's credentials from `env`;
 * `pull: 'always'` re-resolves tags, `'never'` uses the store only).
 * `root` is the store directory (default $TSBUILD_ROOT or
 * ~/.local/share/tsbuild); `runtime` is `crun`, `runc` or a path. Cancel with
 * `signal`: the builder leaves the store consistent and rejects with a
 * CanceledError.
 *
 * With `server` (a build server's address and, for tcp://, TLS files — or
 * $TSBUILD_SERVER) the build runs there instead: same options, events and
 * result; `type=image` lands in the server's store.
 */
import type { BuildOptions, BuildResult } from '@tsbuild/builder';
import type { ServerTarget } from '@tsbuild/server';
import { lazyImagePuller } from './build-puller.js';
import { defaultRoot } from './context.js';
import { builderBuild, openBuildDeps } from './run-build.js';

export interface ApiBuildOptions extends BuildOptions {
  root?: string;
  runtime?: string;
  server?: ServerTarget | string;
}

export async function build(options: ApiBuildOptions): Promise<BuildResult> {
  const { root, runtime, server, ...buildOptions } = options;
  const remote = server ?? (options.env ?? process.env).TSBUILD_SERVER;
  if (remote) {
    const { remoteBuild } = await import('@tsbuild/server');
    return remoteBuild(buildOptions, typeof remote === 'string' ? { address: remote } : remote);
  }
  const deps = await openBuildDeps({
    root: root ?? defaultRoot(options.env ?? process.env),
    ...(runtime ? { runtime } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const env = options.env ?? process.env;
  const puller = lazyImagePuller(deps.store, async () => ({ credentials: (await import('@tsbuild/registry-client')).dockerConfigCredentials({ env }) }));
  try {
    return await builderBuild()(buildOptions, { ...deps, puller });
  } finally {
    await puller.close();
  }
}

export type { ServerTarget } from '@tsbuild/server';
export type { BuildEvent, BuildOptions, BuildResult, BuildWarning, OutputSpec, PullMode, SecretSpec, SshSpec } from '@tsbuild/builder';
