/**
 * The build-cache GC: removes cache records by policy, then lets the store
 * sweep what they alone kept — BuildKit's cacheManager.Prune
 * (cache/manager.go: `prune`, `pruneOnce`), on tsbuild's records.
 *
 * Everything runs inside one store prune, under gc.lock (`beforeMark`): the
 * records go first, then the store marks (tags, live leases, the records
 * left) and sweeps. A crash at any point leaves a consistent store: a record
 * is deleted before anything it names, and what it named is swept by this or
 * a later prune (`tsbuild fsck` stays clean).
 *
 * A running build is never robbed: what it made or reuses is in its lease
 * (a cache hit is held before it is used, then confirmed still recorded:
 * api/held-cache.ts), so a record in use is skipped, and a record removed
 * under a build that just hit it loses nothing the build needs.
 */
import { randomUUID } from 'node:crypto';
import { readdir, rename, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '@tsbuild/core';
import { isLeaseLive, type Cancellable, type PruneResult, type ReleasedResources, type Store } from '@tsbuild/store';
import { openBuildCache, pruneContentMaps, type FileCacheStorage } from '../solver/index.js';
import { keepBytesOf, matchesFilters, type GcPolicy } from './policy.js';
import { cacheMountsDir, cacheUsage, type UsageRecord } from './usage.js';

export interface PruneCacheOptions extends Cancellable {
  /** Applied in order, as buildkitd applies its gcpolicy list. */
  policies: readonly GcPolicy[];
  /** The store sweep's grace window (store prune's `graceMs`, default 60 s). */
  graceMs?: number;
  /** Told of each record as it is removed. */
  onRemoved?: (record: UsageRecord) => void;
}

export interface PruneCacheResult {
  /** The usage records removed, in order. */
  removed: UsageRecord[];
  /** Sum of their sizes (BuildKit's "Total"). */
  reclaimedBytes: number;
  /** The store sweep that followed (blobs, snapshots, leftovers). */
  store: PruneResult;
  contentMaps: { removed: number; bytes: number };
}

export async function pruneBuildCache(store: Store, options: PruneCacheOptions): Promise<PruneCacheResult> {
  const { signal } = options;
  const cache = openBuildCache(store.root);
  const removed: UsageRecord[] = [];
  const grace = options.graceMs === undefined ? {} : { graceMs: options.graceMs };
  const storeResult = await store.prune({
    ...(signal ? { signal } : {}),
    ...grace,
    roots: [cache],
    beforeMark: async () => {
      await removeCacheMountLeftovers(store.root);
      for (const policy of options.policies) {
        for (const r of await applyPolicy(store, cache, policy, signal)) {
          removed.push(r);
          options.onRemoved?.(r);
        }
      }
      await cache.forgetDeleted(signal ? { signal } : {});
      return releasedBy(removed);
    },
  });
  const contentMaps = await pruneContentMaps(cache.dir, grace);
  return { removed, reclaimedBytes: removed.reduce((n, r) => n + r.size, 0), store: storeResult, contentMaps };
}

/**
 * One policy: BuildKit's `prune` loop over `pruneOnce`. Candidates are
 * records nothing above them needs, not in use, not shared unless `all`,
 * unused for longer than keepDuration, matching the filters. Under a size cap
 * they go one at a time in BuildKit's order (least recently and least often
 * used first: sortDeleteRecords) until the unshared total is below the cap;
 * without one, all of them, and again while removing some frees others.
 */
async function applyPolicy(store: Store, cache: FileCacheStorage, policy: GcPolicy, signal: AbortSignal | undefined): Promise<UsageRecord[]> {
  const usage = await cacheUsage(store, cache);
  const keepBytes = keepBytesOf(policy, usage.totalSize, await freeBytes(store.root, policy));
  const cutoff = Date.now() - (policy.keepDuration ?? 0);
  const live = new Set(usage.records);
  let total = usage.totalSize;
  const removed: UsageRecord[] = [];
  for (;;) {
    throwIfAborted(signal);
    if (keepBytes !== 0 && total < keepBytes) break;
    const candidates = [...live].filter(
      (r) => r.children === 0 && !r.inUse && (policy.all || !r.shared) && !(policy.keepDuration && r.lastUsedAt.getTime() > cutoff) && matchesFilters(r, policy.filters),
    );
    if (candidates.length === 0) break;
    for (const r of keepBytes !== 0 ? [deletionOrder(candidates)[0]!] : candidates) {
      if (!(await remove(store, cache, r))) continue;
      live.delete(r);
      removed.push(r);
      total -= r.size; // shared ones too, as BuildKit's prune does: a policy with `all` then stops at the cap rather than taking every shared record
      for (const other of live) if (r.parents.includes(other.id)) other.children--;
    }
  }
  return removed;
}

/** Deletes a record's cache records, or a cache mount's directory unless a build leased it meanwhile. */
async function remove(store: Store, cache: FileCacheStorage, r: UsageRecord): Promise<boolean> {
  if (r.type !== 'exec.cachemount') {
    for (const key of r.keys) await cache.delete(key);
    return true;
  }
  const leased = (await store.leases.list()).some((l) => isLeaseLive(l) && l.resources.some((res) => res.type === 'cache' && r.owned.includes(res.key)));
  if (leased) return false;
  const hex = r.owned[0]!.slice('cache-mount:'.length);
  // Out of sight first (one rename), so a half-removed directory is never mounted; a crash leaves `.gc-*`, removed next time.
  const doomed = join(cacheMountsDir(store.root), `.gc-${hex}-${randomUUID()}`);
  await rename(join(cacheMountsDir(store.root), hex), doomed);
  await rm(doomed, { recursive: true, force: true });
  return true;
}

/** What the removed records owned, for the store sweep to take even inside its grace window (store's ReleasedResources). */
function releasedBy(removed: readonly UsageRecord[]): ReleasedResources {
  const released: ReleasedResources = { blobs: new Map(), snapshots: new Map() };
  for (const r of removed) {
    for (const o of r.owned) {
      if (o.startsWith('b:')) released.blobs.set(o.slice(2), r.writtenAt.getTime());
      else if (o.startsWith('s:')) released.snapshots.set(o.slice(2), r.writtenAt.getTime());
    }
  }
  return released;
}

/** Cache mount directories a crashed prune had moved aside. */
async function removeCacheMountLeftovers(root: string): Promise<void> {
  const base = cacheMountsDir(root);
  for (const name of await readdir(base).catch(() => [] as string[])) {
    if (name.startsWith('.gc-')) await rm(join(base, name), { recursive: true, force: true });
  }
}

/**
 * BuildKit's sortDeleteRecords: each record ranked by last use and by use
 * count (rank = 1 + distinct smaller values, scaled by the largest rank), the
 * lowest sum first.
 */
export function deletionOrder(records: readonly UsageRecord[]): UsageRecord[] {
  const last = ranks(records, (r) => r.lastUsedAt.getTime());
  const count = ranks(records, (r) => r.usageCount);
  const score = (r: UsageRecord) => last.rank.get(r)! / last.max + count.rank.get(r)! / count.max;
  return [...records].sort((a, b) => score(a) - score(b));
}

function ranks(records: readonly UsageRecord[], value: (r: UsageRecord) => number): { rank: Map<UsageRecord, number>; max: number } {
  const sorted = [...records].sort((a, b) => value(a) - value(b));
  const rank = new Map<UsageRecord, number>();
  let max = 1;
  let previous: number | undefined;
  for (const r of sorted) {
    if (previous !== undefined && value(r) > previous) max++;
    previous = value(r);
    rank.set(r, max);
  }
  return { rank, max };
}

async function freeBytes(root: string, policy: GcPolicy): Promise<number> {
  if (!policy.minFreeSpace) return 0;
  const st = await statfs(root);
  return st.bavail * st.bsize;
}
