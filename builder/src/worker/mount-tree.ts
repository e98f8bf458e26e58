/**
 * Mounting snapshots on the host, for the ops that work on a tree directly
 * (file ops write into a prepared snapshot; COPY --from and bind mounts read a
 * read-only view of another result). A single bind mount is used in place
 * (no mount needed); anything else is mounted on a temp dir and always
 * unmounted and removed afterwards, also on failure or abort.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { mountArgv, type Mount } from '@tsbuild/runtime';
import type { Worker } from './worker.js';
import type { LayerResult } from './types.js';

const run = promisify(execFile);

export async function withMounted<T>(mounts: Mount[], fn: (dir: string) => Promise<T>): Promise<T> {
  if (mounts.length === 1 && mounts[0]!.type === 'bind') return fn(mounts[0]!.source);
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-mnt-'));
  try {
    for (const m of mounts) await run('mount', mountArgv(m, dir));
    try {
      return await fn(dir);
    } finally {
      await unmount(dir);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function unmount(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await run('umount', [dir]);
      return;
    } catch (err) {
      if (attempt >= 5) {
        await run('umount', ['-l', dir]);
        return;
      }
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
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
