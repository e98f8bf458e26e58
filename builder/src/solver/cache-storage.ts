/**
 * Where cache records live. A record maps a cache key to an op's result plus
 * what the garbage collector must keep alive for it (`blobs`, `snapshots`:
 * a persistent storage reports them to the store's GC as a GcRootProvider)
 * and the key's components (`explain`).
 *
 * Lifecycle: the solver `get`s on lookup, `put`s after an exec, `touch`es on a
 * hit (last use and use count, which a persistent storage records apart from
 * the record: see usage-log.ts), and records `explainId → last key` so the
 * next miss of the same step can be compared against it. The build-cache GC
 * (builder/src/cache-gc/) `walk`s and `delete`s.
 * Keys are `sha256:<hex>` digests.
 */
import type { KeyComponents } from './cache-key.js';
import type { Result } from './types.js';

export interface CacheRecord<R extends Result = Result> {
  key: string;
  result: R;
  /** The identity children are keyed on: `result.contentDigest` ?? the key the result was first stored under. */
  outputKey: string;
  createdAt: string;
  /** When it was written or last hit (a persistent storage may keep later hits apart: see `usage`). */
  lastUsedAt: string;
  blobs: string[];
  snapshots: string[];
  explain: KeyComponents;
}

export interface StorageOptions {
  signal?: AbortSignal;
}

/** Records of results of type `R`: a storage gives back what the solver put (a persistent one trusts its own files). */
export interface CacheStorage<R extends Result = Result> {
  get(key: string, options?: StorageOptions): Promise<CacheRecord<R> | undefined>;
  /** Replaces any record under `key`; atomic for persistent backends. */
  put(key: string, record: CacheRecord<R>, options?: StorageOptions): Promise<void>;
  /** Whether a record is (still) under `key`: a GC may have removed one just read. */
  has(key: string, options?: StorageOptions): Promise<boolean>;
  /** Records a hit of `key` now: cheap, and never rewrites the record. */
  touch(key: string, options?: StorageOptions): Promise<void>;
  /** Deleting a missing key is not an error. */
  delete(key: string, options?: StorageOptions): Promise<void>;
  walk(options?: StorageOptions): AsyncIterable<CacheRecord<R>>;
  /** The key last used for a step with this explain id, if any. */
  getExplainKey(explainId: string, options?: StorageOptions): Promise<string | undefined>;
  setExplainKey(explainId: string, key: string, options?: StorageOptions): Promise<void>;
  /**
   * Makes what a record names present before an op reads its result (the
   * solver calls it on each input record of a vertex it executes). Only a
   * storage whose records may name content that is not here yet has it: one
   * imported from a remote cache fetches the record's layers then (lazily:
   * a cached step nothing runs on is never downloaded).
   */
  ready?(record: CacheRecord<R>, options?: StorageOptions): Promise<void>;
}

/** Records in a Map: for tests and throwaway builds. Values are copied so callers cannot alias them. */
export class MemoryCacheStorage<R extends Result = Result> implements CacheStorage<R> {
  private readonly records = new Map<string, string>();
  private readonly explainIndex = new Map<string, string>();

  async get(key: string): Promise<CacheRecord<R> | undefined> {
    const json = this.records.get(key);
    return json === undefined ? undefined : (JSON.parse(json) as CacheRecord<R>);
  }
  async put(key: string, record: CacheRecord<R>): Promise<void> {
    this.records.set(key, JSON.stringify(record));
  }
  async has(key: string): Promise<boolean> {
    return this.records.has(key);
  }
  async touch(key: string): Promise<void> {
    const json = this.records.get(key);
    if (json !== undefined) this.records.set(key, JSON.stringify({ ...(JSON.parse(json) as CacheRecord<R>), lastUsedAt: new Date().toISOString() }));
  }
  async delete(key: string): Promise<void> {
    this.records.delete(key);
  }
  async *walk(): AsyncIterable<CacheRecord<R>> {
    for (const json of [...this.records.values()]) yield JSON.parse(json) as CacheRecord<R>;
  }
  async getExplainKey(explainId: string): Promise<string | undefined> {
    return this.explainIndex.get(explainId);
  }
  async setExplainKey(explainId: string, key: string): Promise<void> {
    this.explainIndex.set(explainId, key);
  }
}
