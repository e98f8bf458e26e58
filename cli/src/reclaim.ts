/**
 * The start-of-command reclaim (issue 13): what dead tsbuild processes left —
 * containers, mounts and folders on the host (runtime's reclaimHost), leases,
 * ingest files and temporary snapshots in the store (store.reclaim) — is
 * removed by the next command that opens the store, CLI or programmatic API.
 * Host first: a dead API process's overlay may still be mounted over the
 * snapshot the store part removes. Both are a few readdirs when nothing is
 * left over. `fsck` does not reclaim at start: it reports, and `--repair`
 * removes (fsckCommand).
 */
import { existsSync } from 'node:fs';
import { reclaimHost, type HostLeftover } from '@tsbuild/runtime';
import { createSnapshotter, FileLeaseManager, openStore, reclaimStoreLeftovers, type FsckProblem, type OpenStoreOptions, type Store } from '@tsbuild/store';

export async function openStoreReclaiming(options: OpenStoreOptions & { reclaim?: boolean }): Promise<Store> {
  const { reclaim = true, ...rest } = options;
  const store = await openStore(rest);
  if (reclaim) {
    reclaimHost({ repair: true });
    await store.reclaim();
  }
  return store;
}

/**
 * The CLI's form, run by main before every command (also those that never
 * open the store, like `ps`), without opening — or creating — the store.
 * A failure is a warning: it must not stop the command the user asked for.
 */
export async function reclaimAtStart(root: string, warn: (message: string) => void): Promise<void> {
  try {
    reclaimHost({ repair: true });
    if (existsSync(root)) await reclaimStoreLeftovers({ root, leases: new FileLeaseManager(root), snapshotter: () => createSnapshotter(root) });
  } catch (err) {
    warn(`reclaiming what earlier tsbuild processes left failed: ${(err as Error).message}`);
  }
}

/** Host leftovers as fsck problems. */
export function hostLeftoverProblems(repair: boolean): FsckProblem[] {
  return reclaimHost({ repair }).map((l: HostLeftover) => ({
    kind: l.kind,
    subject: l.path,
    message: `${DESCRIPTIONS[l.kind]} of process ${l.owner}, which is gone`,
    ...(l.repaired !== undefined ? { repaired: l.repaired } : {}),
  }));
}

const DESCRIPTIONS: Record<HostLeftover['kind'], string> = {
  container: 'container',
  mount: 'mount',
  bundle: 'bundle folder',
  'mount-point': 'mount point',
};
