/**
 * `defineBuild(options, store)`: a build up to its definition — the
 * Dockerfile loaded, its images resolved from the store, the stage graph
 * turned into a Definition — without running anything (`tsbuild build
 * --print definition`: two of them diff to what a rebuild would redo).
 */
import { InvalidArgumentError } from '@tsbuild/core';
import type { Store } from '@tsbuild/store';
import { buildDefinition } from '../definition/build-definition.js';
import type { Definition, DefinitionOptions } from '../definition/types.js';
import type { BuildWarning } from './events.js';
import { loadBuild, type LoadedBuild } from './load.js';
import type { BuildOptions, ImagePuller } from './types.js';

export async function defineBuild(options: BuildOptions, store: Store, puller?: ImagePuller): Promise<{ definition: Definition; warnings: BuildWarning[] }> {
  if (options.platform?.includes(',')) {
    throw new InvalidArgumentError('a definition is of one platform: give --platform one (a multi-platform build solves one definition per platform)', { code: 'BUILD_MULTI_PLATFORM_UNSUPPORTED' });
  }
  const loaded = await loadBuild(options, store, { signal: options.signal, puller });
  return { definition: buildDefinition(definitionOptions(options, loaded)), warnings: loaded.warnings };
}

/** What the definition of a build depends on: the loaded Dockerfile and the options that enter op descriptions. */
export function definitionOptions(options: BuildOptions, loaded: LoadedBuild): DefinitionOptions {
  return {
    graph: loaded.graph, file: loaded.file, images: loaded.images, locals: loaded.locals,
    network: options.network ?? 'host', allowInsecure: options.allowInsecure === true, allowNetworkHost: options.allowNetworkHost !== false, sourceDateEpoch: options.sourceDateEpoch,
    noCacheStages: options.noCacheFilter, ...(options.extraHosts?.length ? { extraHosts: options.extraHosts } : {}),
    ...(options.shmSize ? { shmSize: options.shmSize } : {}), ...(options.ulimits?.length ? { ulimits: options.ulimits } : {}),
    ...(options.cgroupParent ? { cgroupParent: options.cgroupParent } : {}),
  };
}
