/**
 * The build cache with remote caches imported (`--cache-from`): the store's
 * own records first, then the imported ones. An imported record is a result
 * whose layers may still be remote, so it is lazy:
 *
 * - a hit costs nothing (the solver keys every vertex from cache maps alone,
 *   so a fresh machine skips every unchanged step without running it);
 * - `ready` (the solver calls it on the inputs of a step it executes) fetches
 *   the record's missing layers and unpacks them into the snapshot children
 *   run on, then writes the record into the local cache;
 * - `fetchResult` (the build calls it on the final result) fetches only the
 *   layers: exporting an image reads blobs, not trees.
 *   (A step whose definition key missed but whose result key then hits has
 *   had its inputs made ready for nothing: the solver asks before it knows.)
 * A cached step that nothing runs on and the image does not contain is never
 * downloaded. Until its blobs are here, an imported record is not written
 * into the local cache (the solver's touch of a hit is dropped), and `ready`
 * writes it once its snapshot is unpacked: a local record always names
 * content the store holds.
 *
 * Every fetched blob and unpacked snapshot is put in the build's lease
 * before it is written, so a concurrent prune cannot take it before the
 * record that keeps it alive exists.
 */
import { isNotFound, NotFoundError, type Compression, type Descriptor, type Digest } from '@tsbuild/core';
import { convertLayers, unpackLayers } from '@tsbuild/store';
import { CACHE_KEY_VERSION, type CacheRecord, type CacheStorage, type StorageOptions } from '../solver/index.js';
import type { LayerRef, LayerResult } from '../worker/types.js';
import type { Worker } from '../worker/worker.js';
import type { CacheBackend } from './backends.js';
import { chainIdOf, type RemoteCache } from './format.js';

export interface ImportedSource {
  backend: CacheBackend;
  cache: RemoteCache;
  /** Every blob the cache's manifest names (its config too): all at the backend's location. */
  blobs: Digest[];
}

export class ImportedCache implements CacheStorage<LayerResult> {
  private readonly records = new Map<string, CacheRecord<LayerResult>>();
  /** Each imported key → every key its record is found under. */
  private readonly keys = new Map<string, string[]>();
  /** Where each imported blob can be fetched from (the first source listing it). */
  private readonly blobSources = new Map<Digest, CacheBackend>();
  private readonly fetching = new Map<Digest, Promise<void>>();
  private readonly unpacking = new Map<string, Promise<void>>();
  /** Blobs the exporting store held uncompressed (CacheLayer.uncompressed). */
  private readonly storedUncompressed = new Set<Digest>();

  constructor(private readonly local: CacheStorage<LayerResult>, private readonly worker: Worker, sources: readonly ImportedSource[]) {
    for (const { backend, cache } of sources) {
      for (const layer of cache.layers) if (!this.blobSources.has(layer.digest)) this.blobSources.set(layer.digest, backend);
      for (const entry of cache.config.records) {
        const layers: LayerRef[] = entry.layers.map((l) => ({ descriptor: cache.layers[l.blob]!, diffID: l.diffID, ...(l.created === undefined ? {} : { created: l.created }) }));
        for (const l of entry.layers) if (l.uncompressed) this.storedUncompressed.add(cache.layers[l.blob]!.digest);
        const chain = chainIdOf(layers.map((l) => l.diffID));
        const result: LayerResult = {
          ...(layers.length > 0 ? { snapshot: chain } : {}),
          layers, contentDigest: chain, blobs: layers.map((l) => l.descriptor.digest), snapshots: [], steps: entry.steps,
        };
        for (const key of entry.keys) {
          if (this.records.has(key)) continue;
          this.keys.set(key, entry.keys);
          this.records.set(key, {
            key, result, outputKey: chain, createdAt: entry.createdAt, lastUsedAt: entry.createdAt, blobs: result.blobs, snapshots: [],
            // The readable components stay on the machine that built (docs/cache-format.md): nothing to explain a miss against.
            explain: { v: CACHE_KEY_VERSION, name: '', vertex: key as Digest, definition: {}, content: {}, inputs: [] },
          });
        }
      }
    }
  }

  /** The keys an imported record is found under (the cache says), undefined for a key no import maps. */
  keysOf(key: string): string[] | undefined {
    return this.keys.get(key);
  }

  async get(key: string, options?: StorageOptions): Promise<CacheRecord<LayerResult> | undefined> {
    return (await this.local.get(key, options)) ?? this.records.get(key);
  }

  async put(key: string, record: CacheRecord<LayerResult>, options?: StorageOptions): Promise<void> {
    const { result } = record;
    if (!(await this.blobsHere(result)) || (result.snapshot !== undefined && !(await this.committed(result.snapshot)))) return;
    const snapshots = result.snapshot === undefined ? [] : [result.snapshot];
    await this.local.put(key, { ...record, result: { ...result, snapshots }, snapshots }, options);
  }

  /** An imported record is always there: its blobs are remote until `ready`, out of a local GC's reach. */
  async has(key: string, options?: StorageOptions): Promise<boolean> {
    return this.records.has(key) || this.local.has(key, options);
  }

  /** A hit of an imported record not written locally yet leaves a usage line the next GC forgets. */
  touch(key: string, options?: StorageOptions): Promise<void> {
    return this.local.touch(key, options);
  }

  delete(key: string, options?: StorageOptions): Promise<void> {
    return this.local.delete(key, options);
  }

  walk(options?: StorageOptions): AsyncIterable<CacheRecord<LayerResult>> {
    return this.local.walk(options);
  }

  getExplainKey(explainId: string, options?: StorageOptions): Promise<string | undefined> {
    return this.local.getExplainKey(explainId, options);
  }

  setExplainKey(explainId: string, key: string, options?: StorageOptions): Promise<void> {
    return this.local.setExplainKey(explainId, key, options);
  }

  /** The record's blobs fetched and its snapshot unpacked; the record then written locally (with its snapshot). */
  async ready(record: CacheRecord<LayerResult>, options: StorageOptions = {}): Promise<void> {
    const { result } = record;
    if (result.snapshot === undefined || (await this.committed(result.snapshot))) return;
    await this.fetchLayers(result.layers, options.signal);
    await this.unpack(result, options.signal);
    const snapshots = [result.snapshot];
    await this.local.put(record.key, { ...record, result: { ...result, snapshots }, snapshots }, options);
  }

  /**
   * The final result with its blobs here (what an image export reads). Its
   * record is not written locally (a local record names a snapshot that
   * exists): a later build without --cache-from runs that step again. A
   * build whose layers stay uncompressed (`compression` none) gets the layers
   * the exporting store held uncompressed decompressed again, so the image
   * is the one that store made.
   */
  async fetchResult(result: LayerResult, compression: Compression, signal?: AbortSignal): Promise<LayerResult> {
    await this.fetchLayers(result.layers, signal);
    if (compression !== 'none' || !result.layers.some((l) => this.storedUncompressed.has(l.descriptor.digest))) return result;
    const todo = result.layers.filter((l) => this.storedUncompressed.has(l.descriptor.digest));
    const converted = await convertLayers(todo, {
      root: this.worker.store.root, content: this.worker.store.content, compression: 'none', force: true,
      onBlob: (d) => this.worker.hold({ blobs: [d.digest] }), ...(signal ? { signal } : {}),
    });
    const as = new Map(todo.map((l, i) => [l.descriptor.digest, converted[i]!]));
    const layers = result.layers.map((l) => ({ ...l, descriptor: as.get(l.descriptor.digest) ?? l.descriptor }));
    return { ...result, layers, blobs: layers.map((l) => l.descriptor.digest) };
  }

  /** Brings the blobs the store lacks, each once, from the cache that lists it. */
  async fetchLayers(layers: readonly LayerRef[], signal?: AbortSignal): Promise<void> {
    await Promise.all(layers.map((l) => this.fetchBlob(l.descriptor, signal)));
  }

  private fetchBlob(desc: Descriptor, signal?: AbortSignal): Promise<void> {
    let pending = this.fetching.get(desc.digest);
    if (!pending) {
      pending = (async () => {
        await this.worker.hold({ blobs: [desc.digest] });
        if (await this.inStore(desc.digest)) return;
        const source = this.blobSources.get(desc.digest);
        if (!source) throw new NotFoundError(`blob ${desc.digest} is neither in the store nor in an imported cache`, { code: 'CACHE_REMOTE_BLOB_UNKNOWN' });
        await source.fetchBlob(desc, this.worker.store.content, signal);
      })();
      this.fetching.set(desc.digest, pending);
      pending.catch(() => this.fetching.delete(desc.digest));
    }
    return pending;
  }

  private unpack(result: LayerResult, signal?: AbortSignal): Promise<void> {
    const chain = result.snapshot!;
    let pending = this.unpacking.get(chain);
    if (!pending) {
      pending = (async () => {
        await this.worker.hold({ snapshots: [chain] });
        await unpackLayers({
          provider: this.worker.store.content, snapshotter: this.worker.snapshotter,
          layers: result.layers.map((l) => l.descriptor), diffIDs: result.layers.map((l) => l.diffID), ...(signal ? { signal } : {}),
        });
      })();
      this.unpacking.set(chain, pending);
      pending.catch(() => this.unpacking.delete(chain));
    }
    return pending;
  }

  private async blobsHere(result: LayerResult): Promise<boolean> {
    for (const l of result.layers) if (this.blobSources.has(l.descriptor.digest) && !(await this.inStore(l.descriptor.digest))) return false;
    return true;
  }

  private inStore(digest: Digest): Promise<boolean> {
    return this.worker.store.content.info(digest).then(() => true, (err: unknown) => { if (isNotFound(err)) return false; throw err; });
  }

  private async committed(key: string): Promise<boolean> {
    try {
      return (await this.worker.snapshotter.stat(key)).kind === 'committed';
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}
