/**
 * Mounting snapshots on the host, for the ops that work on a tree directly
 * (file ops write into a prepared snapshot; COPY --from and bind mounts read a
 * read-only view of another result). A single bind mount is used in place
 * (no mount needed); anything else is mounted on a fresh directory in this
 * process's folder under /run/tsbuild/mnt (runtime's scratchMountPoint: a
 * killed process's folder is found and reclaimed by the next tsbuild) and
 * always unmounted and removed afterwards, also on failure or abort.
 */
import { rmdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mountAll, scratchMountPoint, type Mount } from '@tsbuild/runtime';
import type { Worker } from './worker.js';
import type { LayerResult } from './types.js';

export async function withMounted<T>(mounts: Mount[], fn: (dir: string) => Promise<T>): Promise<T> {
  if (mounts.length === 1 && mounts[0]!.type === 'bind') return fn(mounts[0]!.source);
  // Synchronous mkdtemp/rmdir: microseconds each, where a promise waits its turn in the thread pool.
  const dir = scratchMountPoint();
  try {
    const unmount = await mountAll(mounts, dir);
    try {
      return await fn(dir);
    } finally {
      await unmount();
    }
  } finally {
    // rmdir, never rm -r: were the tree still mounted (an unmount that failed), that would delete a snapshot's files.
    try {
      rmdirSync(dir);
    } catch {
      // still mounted after a failed unmount: leave it (never rm -r, see above)
    }
  }
}

/**
 * Runs `fn` with a read-only view of a result's whole tree; an empty result
 * gets an empty directory. A committed snapshot's mounts are read-only.
 */
export async function withResultTree<T>(w: Worker, result: LayerResult, fn: (dir: string) => Promise<T>): Promise<T> {
  if (result.snapshot === undefined) {
    const empty = await mkdtemp(join(tmpdir(), 'tsbuild-empty-'));
    try {
      return await fn(empty);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  }
  return withMounted(await w.snapshotter.mounts(result.snapshot), fn);
}
