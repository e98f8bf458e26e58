/**
 * What dead processes left in the store: their leases, the ingest files they
 * were writing, and the temporary (active) snapshots of their builds and
 * unpacks. Each names its maker — a lease records pid and start time, an
 * ingest file is `ingest/<pid>-<start>-<uuid>`, a temporary snapshot's key
 * carries `@<pid>-<start>` (core's ProcessOwner) — so an orphan is known at
 * once, with no age threshold, and a recycled pid is not mistaken for its
 * owner. Temporary keys of tsbuild versions before owners were named
 * (`exec-<uuid>`, `extract-<uuid> <chain id>` …) count as orphans once an
 * hour old, as ingest leftovers always did. Other active snapshots (a
 * `tsbuild run` container's, kept by its record) are never touched here.
 *
 * BuildKit leaves this to expiry: its leases are made with an expiration
 * (util/leaseutil/manager.go, `NewLease`: `leases.WithExpiration(time.Hour)`)
 * and containerd's garbage collection removes what no live lease or root
 * references. A long-lived daemon owns them; ours are made by short-lived CLI
 * processes, so the owner's death ends them at once, not an hour later.
 *
 * `reclaimStoreLeftovers` is the cheap form every command runs when it opens
 * the store: two readdirs, and the snapshot table is read only when a dead
 * lease was found (a build's temporary snapshots exist only while its lease does).
 */
import { rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ownerAlive, parseOwner } from '@tsbuild/core';
import { leaseOwnerAlive } from '../lease/file-lease-manager.js';
import type { Lease, LeaseManager, SnapshotInfo, Snapshotter } from '../types.js';
import { filesIn, ONE_HOUR_MS, type ScannedFile } from './fs-scan.js';

export interface StoreLeftovers {
  deadLeases: Lease[];
  orphanIngest: ScannedFile[];
  orphanSnapshots: SnapshotInfo[];
}

export interface LeftoverOptions {
  root: string;
  leases: LeaseManager;
  /** Without it, active snapshots are not looked at. */
  snapshotter?: Snapshotter;
  /** Age past which an unmarked temporary snapshot of an earlier version is an orphan (default one hour). */
  legacyMaxAgeMs?: number;
}

/** The temporary snapshot keys of versions that did not name their owner. */
const LEGACY_TEMP_KEY = /^(exec|file|git|http|extract)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}( |$)/;

/** Dead-owner leases, ingest files and temporary snapshots. */
export async function findStoreLeftovers(o: LeftoverOptions): Promise<StoreLeftovers> {
  const deadLeases = (await o.leases.list()).filter((l) => !leaseOwnerAlive(l));
  const orphanIngest = (await filesIn(join(o.root, 'ingest'))).filter((f) => deadOwner(/^(\d+-\d+)-/.exec(basename(f.path))?.[1]));
  const orphanSnapshots: SnapshotInfo[] = [];
  if (o.snapshotter) {
    const legacyCutoff = Date.now() - (o.legacyMaxAgeMs ?? ONE_HOUR_MS);
    for await (const info of o.snapshotter.walk()) {
      if (info.kind !== 'active') continue;
      const legacy = LEGACY_TEMP_KEY.test(info.key) && Date.parse(info.createdAt) < legacyCutoff;
      if (legacy || deadOwner(/@(\d+-\d+)(?: |$)/.exec(info.key)?.[1])) orphanSnapshots.push(info);
    }
  }
  return { deadLeases, orphanIngest, orphanSnapshots };
}

/** Removes what `findStoreLeftovers` found; each removal that failed (a snapshot with a child …) is left for next time. */
export async function removeStoreLeftovers(o: LeftoverOptions, found: StoreLeftovers): Promise<{ removed: Set<string> }> {
  const removed = new Set<string>();
  for (const info of found.orphanSnapshots) {
    if (await o.snapshotter!.remove(info.key).then(() => true, () => false)) removed.add(`snapshot:${info.key}`);
  }
  for (const f of found.orphanIngest) {
    await rm(f.path, { force: true });
    removed.add(`ingest:${f.path}`);
  }
  for (const lease of found.deadLeases) {
    await o.leases.delete(lease.id).catch(() => undefined);
    await unlink(join(o.root, 'leases', `${lease.id}.lock`)).catch(() => undefined);
    removed.add(`lease:${lease.id}`);
  }
  return { removed };
}

/**
 * The start-of-command reclaim. `snapshotter` is asked for only when a dead
 * lease exists (creating one probes overlayfs).
 */
export async function reclaimStoreLeftovers(o: Omit<LeftoverOptions, 'snapshotter'> & { snapshotter: () => Promise<Snapshotter> }): Promise<void> {
  let found = await findStoreLeftovers({ root: o.root, leases: o.leases });
  if (found.deadLeases.length === 0 && found.orphanIngest.length === 0) return;
  const snapshotter = found.deadLeases.length > 0 ? await o.snapshotter() : undefined;
  const options: LeftoverOptions = { root: o.root, leases: o.leases, ...(snapshotter ? { snapshotter } : {}) };
  if (snapshotter) found = await findStoreLeftovers(options);
  await removeStoreLeftovers(options, found);
}

function deadOwner(text: string | undefined): boolean {
  const owner = text === undefined ? undefined : parseOwner(text);
  return owner !== undefined && !ownerAlive(owner);
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
