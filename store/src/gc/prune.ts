import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isNotFound, throwIfAborted, withLock, type Digest } from '@tsbuild/core';
import { BlobSources } from '../content/blob-sources.js';
import { LayerVariants } from '../image/layer-variants.js';
import type { Cancellable, ContentStore, GcRootProvider, ImageStore, LeaseManager, PruneResult, SnapshotInfo, Snapshotter } from '../types.js';
import { ONE_HOUR_MS, ingestLeftovers } from './fs-scan.js';
import { findStoreLeftovers, removeStoreLeftovers, type LeftoverOptions } from './leftovers.js';
import { markReachable, type MarkSet } from './mark.js';

/** The roles prune and du work on. */
export interface GcOptions extends Cancellable {
  root: string;
  content: ContentStore;
  images: ImageStore;
  leases?: LeaseManager;
  /** What holders outside the store keep (the build cache): see GcRootProvider. */
  roots: readonly GcRootProvider[];
  /** Committed snapshots are swept (and measured) only when a snapshotter is given. */
  snapshotter?: Snapshotter;
}

export interface PruneOptions extends GcOptions {
  /**
   * Anything modified less than this long before the prune started survives
   * (default 60 s). It covers the gap between a build ingesting a blob and
   * tagging it; builds that need longer hold a lease.
   */
  graceMs?: number;
  /** Ingest files older than this are removed (default one hour). */
  ingestMaxAgeMs?: number;
  /**
   * Runs under gc.lock before the mark: a root provider drops records here
   * (the build-cache GC), so that what they alone kept is swept by this very
   * prune and no other prune marks while they go. What it returns as
   * released is swept even inside the grace window (see ReleasedResources).
   */
  beforeMark?: () => Promise<ReleasedResources | void>;
}

/**
 * What a root provider just stopped naming, each with the time (ms) it was
 * last made or named: the grace window exists for what a build made and has
 * not leased yet, and something made again after that time (a re-ingested
 * blob has a new mtime, a snapshot a new creation time) may be exactly that,
 * so only what is not newer than its time escapes the window.
 */
export interface ReleasedResources {
  blobs: Map<string, number>;
  snapshots: Map<string, number>;
}

/**
 * Mark and sweep. Takes `<root>/gc.lock` so two prunes never interleave; it
 * does not stop builds, which is why nothing newer than the start time minus
 * `graceMs` is removed (blob mtimes — re-ingesting an existing blob refreshes
 * it — and snapshot creation times / directory mtimes).
 * Layer conversion memos and blob-source records whose blobs are gone go with them.
 * The root providers' own records are theirs to collect, not the store's.
 * Leases of dead processes, their ingest files and temporary snapshots go
 * first, whatever their age (gc/leftovers.ts).
 */
export async function prune(options: PruneOptions): Promise<PruneResult> {
  const { root, signal } = options;
  return withLock(join(root, 'gc.lock'), async () => {
    const cutoff = Date.now() - (options.graceMs ?? 60_000);
    const result: PruneResult = { blobsRemoved: 0, snapshotsRemoved: 0, bytesReclaimed: 0 };
    // First what dead processes left: their temporary snapshots would otherwise keep their parents.
    if (options.leases) result.leftoversRemoved = await pruneLeftovers({ root, leases: options.leases, ...(options.snapshotter ? { snapshotter: options.snapshotter } : {}) });
    const released = (await options.beforeMark?.()) ?? undefined;
    const mark = await markReachable(options);
    throwIfAborted(signal);
    for await (const blob of options.content.walk()) {
      throwIfAborted(signal);
      if (mark.blobs.has(blob.digest)) continue;
      const st = await stat(options.content.blobPath(blob.digest)).catch(() => undefined);
      if (!st || (st.mtimeMs >= cutoff && !(st.mtimeMs <= (released?.blobs.get(blob.digest) ?? -Infinity)))) continue;
      try {
        await options.content.delete(blob.digest);
        result.blobsRemoved++;
        result.bytesReclaimed += blob.size;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const exists = (digest: Digest) => existsSync(options.content.blobPath(digest));
    await new LayerVariants(root).sweep(exists);
    await new BlobSources(root).sweep(exists);
    if (options.snapshotter) result.snapshotsRemoved = await sweepSnapshots(options.snapshotter, mark, cutoff, signal, released?.snapshots);
    for (const f of await ingestLeftovers(root, options.ingestMaxAgeMs ?? ONE_HOUR_MS)) {
      await rm(f.path, { force: true });
      result.bytesReclaimed += f.size;
    }
    return result;
  }, signal ? { signal } : {});
}

/** The committed snapshots that nothing keeps, children before parents. */
export async function unreachableSnapshots(snapshotter: Snapshotter, mark: MarkSet, cutoff: number, released?: ReadonlyMap<string, number>): Promise<SnapshotInfo[]> {
  const all = new Map<string, SnapshotInfo>();
  for await (const info of snapshotter.walk()) all.set(info.key, info);
  const keep = new Set<string>();
  const keepWithAncestors = (key: string | undefined) => {
    while (key !== undefined && !keep.has(key)) {
      keep.add(key);
      key = all.get(key)?.parent;
    }
  };
  for (const info of all.values()) {
    const made = Math.max(Date.parse(info.createdAt), await dirMtime(snapshotter.dir(info.key)));
    const young = made >= cutoff && !(made <= (released?.get(info.key) ?? -Infinity));
    if (info.kind !== 'committed' || mark.snapshots.has(info.key) || young) keepWithAncestors(info.key);
  }
  const depth = (info: SnapshotInfo): number => {
    let d = 0;
    for (let p = info.parent; p !== undefined && d <= all.size; p = all.get(p)?.parent) d++;
    return d;
  };
  return [...all.values()].filter((i) => !keep.has(i.key)).sort((a, b) => depth(b) - depth(a));
}

async function sweepSnapshots(snapshotter: Snapshotter, mark: MarkSet, cutoff: number, signal: AbortSignal | undefined, released: ReadonlyMap<string, number> | undefined): Promise<number> {
  let removed = 0;
  for (const info of await unreachableSnapshots(snapshotter, mark, cutoff, released)) {
    throwIfAborted(signal);
    try {
      await snapshotter.remove(info.key);
      removed++;
    } catch (err) {
      if (!isNotFound(err)) continue; // e.g. a child appeared meanwhile: it will go next time
    }
  }
  return removed;
}

async function dirMtime(dir: string): Promise<number> {
  return (await stat(dir).catch(() => undefined))?.mtimeMs ?? 0;
}

async function pruneLeftovers(o: LeftoverOptions): Promise<number> {
  const { removed } = await removeStoreLeftovers(o, await findStoreLeftovers(o));
  return removed.size;
}
