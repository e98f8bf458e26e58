/**
 * `--cache-from`: read each cache's manifest and config (nothing else: layers
 * come later, only those a step or the image needs; see imported-cache.ts).
 * A registry reference may name a cache manifest (either form) or an image
 * whose config carries an inline cache. A cache that is missing or cannot be
 * read is a warning, never a failure, as in buildx (BuildKit logs its import
 * error at debug level and builds on: solver/llbsolver/bridge.go,
 * "error while importing cache manifest").
 */
import type { Descriptor, Digest } from '@tsbuild/core';
import type { CacheBackend } from './backends.js';
import { decodeCacheConfig, INLINE_CACHE_FIELD, manifestBlobs, parseCacheManifest, parseJson, type RemoteCache } from './format.js';
import type { ImportedSource } from './imported-cache.js';

export interface ImportOutcome {
  sources: ImportedSource[];
  /** Why a cache could not be used, per cache: the build warns and goes on. */
  failures: Array<{ backend: CacheBackend; message: string }>;
}

export async function importCaches(backends: readonly CacheBackend[], signal?: AbortSignal): Promise<ImportOutcome> {
  const outcome: ImportOutcome = { sources: [], failures: [] };
  await Promise.all(backends.map(async (backend) => {
    try {
      const read = await readCache(backend, signal);
      if (read) outcome.sources.push({ backend, ...read });
      else outcome.failures.push({ backend, message: `no cache at ${backend.name}` });
    } catch (err) {
      if (signal?.aborted) throw err;
      outcome.failures.push({ backend, message: `cannot import cache from ${backend.name}: ${(err as Error).message}` });
    }
  }));
  // The order given: an earlier --cache-from wins a key both map.
  outcome.sources.sort((a, b) => backends.indexOf(a.backend) - backends.indexOf(b.backend));
  return outcome;
}

/** The cache a backend holds and the blobs its manifest names; undefined when it has no manifest, or an image without an inline cache. */
export async function readCache(backend: CacheBackend, signal?: AbortSignal): Promise<{ cache: RemoteCache; blobs: Digest[] } | undefined> {
  const bytes = await backend.readManifest(signal);
  if (!bytes) return undefined;
  const parsed = parseCacheManifest(bytes, backend.name);
  const blobs = manifestBlobs(parsed);
  const cache = 'image' in parsed ? await readInline(backend, parsed.image, signal) : {
    config: decodeCacheConfig(parseJson(await backend.readDocument(parsed.config, signal), `${backend.name}: cache config`), parsed.layers.length, backend.name),
    layers: parsed.layers,
  };
  return cache && { cache, blobs };
}

/** An image's inline cache: its config's INLINE_CACHE_FIELD, whose indexes name the image's own layers. */
async function readInline(backend: CacheBackend, image: { config: Descriptor; layers: Descriptor[] }, signal?: AbortSignal): Promise<RemoteCache | undefined> {
  const config = parseJson(await backend.readDocument(image.config, signal), `${backend.name}: image config`) as Record<string, unknown>;
  const inline = config?.[INLINE_CACHE_FIELD];
  if (inline === undefined) return undefined;
  return { config: decodeCacheConfig(inline, image.layers.length, `${backend.name}: inline cache`), layers: image.layers };
}
