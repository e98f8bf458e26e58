/**
 * A build's remote caches (`cacheFrom`, `cacheTo`; docs/cache-format.md):
 * imports before the solve (the solver then looks keys up in the store's
 * cache, then in the imported ones), the final result's layers fetched after
 * it, the inline cache handed to the image exporter, and the exports after
 * the image. Progress names them as BuildKit does: a vertex
 * `importing cache manifest from R` (solver/llbsolver/bridge.go) and an
 * export step `exporting cache to R`.
 */
import { join } from 'node:path';
import { sha256, type Compression, type Digest } from '@tsbuild/core';
import type { RegistryClient } from '@tsbuild/registry-client';
import type { Definition } from '../definition/types.js';
import { LocalBackend, RegistryBackend, type CacheBackend } from '../remote-cache/backends.js';
import { cacheMountIds, packCacheMounts, restoreCacheMount } from '../remote-cache/cache-mounts.js';
import { exportCache, inlineCacheOf, selectRecords } from '../remote-cache/export.js';
import { importCaches } from '../remote-cache/import.js';
import { ImportedCache, type ImportedSource } from '../remote-cache/imported-cache.js';
import { manifestBlobs, parseCacheManifest, type CacheConfig } from '../remote-cache/format.js';
import type { CacheStorage, SolveResult } from '../solver/index.js';
import type { LayerResult } from '../worker/types.js';
import type { Worker } from '../worker/worker.js';
import type { BuildEvent } from './events.js';
import type { BuildDeps, BuildOptions, CacheExportSpec, CacheImportSpec } from './types.js';

export class RemoteCaches {
  private imported: ImportedCache | undefined;
  /** Blobs known to be at each location (`CacheBackend.location`): what an import listed, what an export wrote. */
  private readonly known = new Map<string, Set<Digest>>();
  private client: Promise<RegistryClient> | undefined;
  private readonly ownClient: boolean;

  constructor(
    private readonly options: BuildOptions,
    private readonly deps: BuildDeps,
    private readonly emit: (e: BuildEvent) => void,
  ) {
    this.ownClient = deps.registry === undefined;
  }

  /** The cache the solver uses: `local`, with the `cacheFrom` caches behind it. */
  async open(local: CacheStorage<LayerResult>, worker: Worker, definitions: readonly Definition[]): Promise<CacheStorage<LayerResult>> {
    const specs = this.options.cacheFrom ?? [];
    if (specs.length === 0) return local;
    const backends = specs.map((s) => this.backend(s));
    const title = `importing cache manifest from ${backends.map((b) => b.name).join(', ')}`;
    const id = sha256(`tsbuild ${title}`);
    const t0 = performance.now();
    this.emit({ type: 'vertex.started', time: Date.now(), id, name: title });
    const outcome = await importCaches(backends, this.options.signal);
    for (const f of outcome.failures) this.warn('RemoteCacheImport', f.message);
    for (const s of outcome.sources) this.knownAt(s.backend.location, s.blobs);
    this.imported = new ImportedCache(local, worker, outcome.sources);
    await this.restoreMounts(outcome.sources, definitions);
    this.emit({ type: 'vertex.completed', time: Date.now(), id, name: title, durationMs: performance.now() - t0 });
    return this.imported;
  }

  /** After the solve: the final result to export (imported layers fetched), and the inline cache for the image config, if asked. */
  async solved(solved: SolveResult<LayerResult>, storage: CacheStorage<LayerResult>, compression: Compression): Promise<{ result: LayerResult; inlineCache?: CacheConfig }> {
    const result = this.imported ? await this.imported.fetchResult(solved.result, compression, this.options.signal) : solved.result;
    if (!(this.options.cacheTo ?? []).some((s) => s.type === 'inline')) return { result };
    const records = await selectRecords({ vertices: solved.vertices, cache: storage, imported: this.imported, finals: [solved.result], mode: 'min', signal: this.options.signal });
    return { result, inlineCache: inlineCacheOf(records, result) };
  }

  /** Each registry and local `cacheTo`; a failure fails the build unless its spec says `ignoreError`. */
  async export(solves: readonly SolveResult<LayerResult>[], storage: CacheStorage<LayerResult>, definitions: readonly Definition[], hold: (r: { blobs: string[] }) => Promise<void>): Promise<void> {
    for (const [i, spec] of (this.options.cacheTo ?? []).entries()) {
      if (spec.type === 'inline' || solves.length === 0) continue;
      const backend = this.backend(spec);
      const name = `exporting cache to ${backend.name}`;
      const id = `export.cache.${i}`;
      const t0 = performance.now();
      this.emit({ type: 'export.started', time: Date.now(), id, name });
      try {
        const compression = spec.compression ?? 'gzip';
        // Every platform's records in one cache (a multi-platform build is several solves).
        const records = await selectRecords({
          vertices: solves.flatMap((s) => s.vertices), cache: storage, imported: this.imported, finals: solves.map((s) => s.result), mode: spec.mode ?? 'min', signal: this.options.signal,
        });
        const mounts = spec.cacheMounts
          ? await packCacheMounts(this.deps.store, this.cacheMountsDir, mountIdsOf(definitions), { compression, hold: (blobs) => hold({ blobs }), signal: this.options.signal })
          : [];
        await exportCache({
          store: this.deps.store, backend, records, mounts, compression, imageManifest: spec.imageManifest ?? true,
          known: await this.knownAtTarget(backend), imported: this.imported, hold: (blobs) => hold({ blobs }), signal: this.options.signal,
        });
      } catch (err) {
        if (!spec.ignoreError || this.options.signal?.aborted) throw err;
        this.warn('RemoteCacheExport', `cache export to ${backend.name} failed (ignore-error=true): ${(err as Error).message}`);
      }
      this.emit({ type: 'export.completed', time: Date.now(), id, name, durationMs: performance.now() - t0 });
    }
  }

  async close(): Promise<void> {
    if (this.ownClient) await (await this.client?.catch(() => undefined))?.close();
  }

  private backend(spec: CacheImportSpec | Exclude<CacheExportSpec, { type: 'inline' }>): CacheBackend {
    if (spec.type === 'registry') return new RegistryBackend(spec.ref, () => this.registryClient());
    return new LocalBackend('src' in spec ? spec.src : spec.dest, spec.tag);
  }

  private registryClient(): Promise<RegistryClient> {
    this.client ??= this.deps.registry ? this.deps.registry() : import('@tsbuild/registry-client').then((m) => new m.RegistryClient());
    return this.client;
  }

  private get cacheMountsDir(): string {
    return this.deps.cacheMountsDir ?? join(this.deps.store.root, 'cache-mounts');
  }

  /** Fills the cache mounts the build uses from the imports that carry them (the first that has an id wins), unless this machine has them. */
  private async restoreMounts(sources: ImportedSource[], definitions: readonly Definition[]): Promise<void> {
    const used = new Set(mountIdsOf(definitions));
    const done = new Set<string>();
    for (const { cache } of sources) {
      for (const m of cache.config.mounts) {
        if (!used.has(m.id) || done.has(m.id)) continue;
        done.add(m.id);
        const descriptor = cache.layers[m.blob]!;
        await this.imported!.fetchLayers([{ descriptor, diffID: m.diffID }], this.options.signal);
        await restoreCacheMount(this.deps.store, this.cacheMountsDir, { id: m.id, descriptor, diffID: m.diffID }, this.options.signal);
      }
    }
  }

  /**
   * What the target is known to hold. Without an import from there, its
   * current manifest is read (one request): what it names is there, so
   * those blobs need no HEAD each.
   */
  private async knownAtTarget(backend: CacheBackend): Promise<Set<Digest>> {
    const known = this.knownAt(backend.location, []);
    if (known.size > 0) return known;
    const bytes = await backend.readManifest(this.options.signal).catch(() => undefined);
    if (!bytes) return known;
    try {
      return this.knownAt(backend.location, manifestBlobs(parseCacheManifest(bytes, backend.name)));
    } catch {
      return known; // not a manifest we can read: every blob is asked about
    }
  }

  private knownAt(location: string, blobs: readonly Digest[]): Set<Digest> {
    let set = this.known.get(location);
    if (!set) this.known.set(location, (set = new Set()));
    for (const b of blobs) set.add(b);
    return set;
  }

  private warn(rule: string, message: string): void {
    this.emit({ type: 'warning', time: Date.now(), warning: { rule, message } });
  }
}

/** The cache mount ids every platform's definition uses, each once. */
function mountIdsOf(definitions: readonly Definition[]): string[] {
  return [...new Set(definitions.flatMap((d) => cacheMountIds(d)))];
}
