/**
 * `--cache-to`: the build's cache records and their layers, written as one
 * cache manifest (format.ts). Fast where BuildKit's export is slow
 * (moby/buildkit#3299, #6123):
 * - the records are the solve's own (no "preparing build cache" walk): one
 *   lookup per vertex;
 * - a layer's compressed variant is made once and remembered by the store
 *   (convertLayers), so an unchanged rebuild compresses nothing;
 * - a blob known to be at the target — listed by a cache imported from the
 *   same place or by the manifest the target holds (the caller reads it when
 *   nothing was imported from there), or written there earlier in this
 *   build — gets no request at all; the others go up several at once
 *   (UPLOADS_AT_ONCE);
 * - so an unchanged rebuild writes the same config and layers and costs one
 *   manifest PUT (and the GET of the target's manifest without an import).
 *
 * `mode=min` (BuildKit's default) exports the records of the results the
 * final image is made of (the base and each step of the final stage: their
 * layers are a prefix of the image's); `mode=max` every step's.
 */
import { Readable } from 'node:stream';
import { isNotFound, layerCompression, type Compression, type Descriptor, type Digest } from '@tsbuild/core';
import { chainIds, convertLayers, type Store } from '@tsbuild/store';
import { cacheKeyOf, CACHE_KEY_VERSION, type CacheRecord, type CacheStorage, type VertexStatus } from '../solver/index.js';
import type { LayerRef, LayerResult } from '../worker/types.js';
import type { CacheBackend } from './backends.js';
import type { PackedMount } from './cache-mounts.js';
import { chainIdOf, encodeCache, type CacheConfig, type CacheRecordEntry, type RemoteCache } from './format.js';
import type { ImportedCache } from './imported-cache.js';

const UPLOADS_AT_ONCE = 8;

export type CacheMode = 'min' | 'max';

/** A record to export and every key it is found under. */
export interface SelectedRecord {
  keys: string[];
  record: CacheRecord<LayerResult>;
}

/** The records a cache of `mode` holds, deduplicated, in a stable order (an unchanged build selects the same bytes). */
export async function selectRecords(p: {
  vertices: readonly VertexStatus[];
  cache: CacheStorage<LayerResult>;
  imported?: ImportedCache | undefined;
  /** The final result of each solve (one per platform): mode=min keeps what their images are made of. */
  finals: readonly LayerResult[];
  mode: CacheMode;
  signal?: AbortSignal | undefined;
}): Promise<SelectedRecord[]> {
  const image = new Set<string>(['scratch', ...p.finals.flatMap((f) => chainIds(f.layers.map((l) => l.diffID)))]);
  const byKey = new Map<string, SelectedRecord>();
  for (const status of p.vertices) {
    const lookup = status.key ?? status.definitionKey;
    if (lookup === undefined || status.state === 'failed' || status.state === 'canceled') continue;
    const record = await p.cache.get(lookup, p.signal ? { signal: p.signal } : {});
    if (!record || record.result.contentDigest !== chainIdOf(record.result.layers.map((l) => l.diffID))) continue;
    if (p.mode === 'min' && !image.has(record.result.contentDigest)) continue;
    // Its result key is in its components (a local record), or the cache it came from says (an imported one).
    const recorded = p.imported?.keysOf(record.key) ?? [cacheKeyOf(record.explain)];
    const keys = [...new Set([status.definitionKey, status.key, record.key, ...recorded].filter((k): k is string => k !== undefined))];
    const existing = keys.map((k) => byKey.get(k)).find((e) => e !== undefined);
    const entry = existing ?? { keys: [], record };
    entry.keys = [...new Set([...entry.keys, ...keys])].sort();
    for (const k of entry.keys) byKey.set(k, entry);
  }
  return [...new Set(byKey.values())].sort((a, b) => (a.keys[0]! < b.keys[0]! ? -1 : 1));
}

export interface ExportCacheOptions {
  store: Store;
  backend: CacheBackend;
  records: readonly SelectedRecord[];
  mounts?: readonly PackedMount[];
  compression: Compression;
  imageManifest: boolean;
  /** Blobs known to be at the backend's location: skipped without a request; what this export writes is added. */
  known: Set<Digest>;
  imported?: ImportedCache | undefined;
  /** Keeps blobs the export makes (compressed variants, fetched layers) in the build's lease. */
  hold: (blobs: string[]) => Promise<void>;
  signal?: AbortSignal | undefined;
  log?: (line: string) => void;
}

export interface CacheExportStats {
  manifest: Descriptor;
  layers: number;
  /** Blobs written (layers and config); the rest were known to be there. */
  uploaded: number;
}

export async function exportCache(o: ExportCacheOptions): Promise<CacheExportStats> {
  const { cache, blobs } = await assemble(o);
  const encoded = encodeCache(cache, { imageManifest: o.imageManifest });
  const todo = [...blobs, encoded.config.descriptor].filter((d) => !o.known.has(d.digest));
  let next = 0;
  const upload = async (): Promise<void> => {
    for (let d = todo[next++]; d; d = todo[next++]) {
      const desc = d;
      if (desc === encoded.config.descriptor) await o.backend.pushBlob(desc, async () => Readable.from([encoded.config.bytes]), o.signal);
      else await o.backend.pushBlob(desc, () => o.store.content.reader(desc.digest, o.signal ? { signal: o.signal } : {}), o.signal);
      o.known.add(desc.digest);
      o.log?.(`writing ${desc === encoded.config.descriptor ? 'config' : 'layer'} ${desc.digest}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(UPLOADS_AT_ONCE, todo.length) }, upload));
  await o.backend.putManifest(encoded.manifest.bytes, encoded.manifest.descriptor.mediaType, o.signal);
  o.log?.(`writing cache ${o.imageManifest ? 'image manifest' : 'index'} ${encoded.manifest.descriptor.digest}`);
  return { manifest: encoded.manifest.descriptor, layers: cache.layers.length, uploaded: todo.length };
}

/**
 * The cache config and its layers as they will be at the target: each layer
 * compressed (its remembered variant), or as imported when the target has
 * it; an imported layer the target lacks is fetched first.
 */
export async function assemble(o: Omit<ExportCacheOptions, 'backend'>): Promise<{ cache: RemoteCache; blobs: Descriptor[] }> {
  const unique = new Map<Digest, LayerRef>();
  for (const { record } of o.records) for (const l of record.result.layers) if (!unique.has(l.descriptor.digest)) unique.set(l.descriptor.digest, l);
  // An imported layer not fetched by this build and already at the target stays as it is there.
  const remoteHere: LayerRef[] = [];
  const local: LayerRef[] = [];
  for (const l of unique.values()) (o.known.has(l.descriptor.digest) && !(await inStore(o.store, l.descriptor.digest)) ? remoteHere : local).push(l);
  await o.imported?.fetchLayers(local, o.signal);
  const converted = await convertLayers(local, {
    root: o.store.root, content: o.store.content, compression: o.compression,
    onBlob: (d) => o.hold([d.digest]), ...(o.signal ? { signal: o.signal } : {}),
  });
  const exported = new Map<Digest, Descriptor>(remoteHere.map((l) => [l.descriptor.digest, l.descriptor]));
  local.forEach((l, i) => exported.set(l.descriptor.digest, converted[i]!));

  const layers: Descriptor[] = [];
  const index = new Map<Digest, number>();
  const indexOf = (d: Descriptor): number => {
    let i = index.get(d.digest);
    if (i === undefined) {
      i = layers.push(d) - 1;
      index.set(d.digest, i);
    }
    return i;
  };
  const records = o.records.map(({ keys, record }): CacheRecordEntry => ({
    keys,
    createdAt: record.createdAt,
    layers: record.result.layers.map((l) => {
      const out = exported.get(l.descriptor.digest)!;
      const uncompressed = layerCompression(l.descriptor.mediaType) === 'none' && out.digest !== l.descriptor.digest;
      return { blob: indexOf(out), diffID: l.diffID, ...(l.created === undefined ? {} : { created: l.created }), ...(uncompressed ? { uncompressed: true as const } : {}) };
    }),
    steps: record.result.steps,
  }));
  const mounts = (o.mounts ?? []).map((m) => ({ id: m.id, blob: indexOf(m.descriptor), diffID: m.diffID }));
  const config: CacheConfig = { keyVersion: CACHE_KEY_VERSION, records, mounts };
  return { cache: { config, layers }, blobs: layers };
}

/**
 * The inline cache of an image (`--cache-to type=inline`, BuildKit's
 * inline cache: always mode=min, cache/remotecache/inline/inline.go): the
 * records of the image's own results, whose layers are a prefix of the
 * image's, so a layer's index is its position in the image manifest —
 * whatever compression a push later gives it.
 */
export function inlineCacheOf(records: readonly SelectedRecord[], final: LayerResult): CacheConfig {
  const chains = chainIds(final.layers.map((l) => l.diffID));
  const entries = records
    .filter(({ record }) => record.result.layers.length === 0 || chains[record.result.layers.length - 1] === record.result.contentDigest)
    .map(({ keys, record }): CacheRecordEntry => ({
      keys, createdAt: record.createdAt, steps: record.result.steps,
      layers: record.result.layers.map((l, i) => ({
        blob: i, diffID: l.diffID, ...(l.created === undefined ? {} : { created: l.created }),
        // The image names it uncompressed (a push compresses it).
        ...(layerCompression(final.layers[i]!.descriptor.mediaType) === 'none' ? { uncompressed: true as const } : {}),
      })),
    }));
  return { keyVersion: CACHE_KEY_VERSION, records: entries, mounts: [] };
}

function inStore(store: Store, digest: Digest): Promise<boolean> {
  return store.content.info(digest).then(() => true, (err: unknown) => { if (isNotFound(err)) return false; throw err; });
}
