/**
 * Where a process makes its bundles and mount points: a folder of its own
 * under each base, named for it (`<base>/<pid>-<start time>`, core's
 * ProcessOwner). The folder is the lease of everything in it: when its owner
 * is gone, whatever is inside is a leftover (reclaim.ts) — no record is
 * written per step. Made on first use; removed at exit when empty.
 */
import { mkdirSync, mkdtempSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatOwner } from '@tsbuild/core';

export const DEFAULT_BUNDLE_DIR = '/run/tsbuild/bundles';
/** Base of the host-side mount points of file ops and read-only views (builder's withMounted). */
export const DEFAULT_MOUNT_DIR = '/run/tsbuild/mnt';

const made = new Set<string>();

/** This process's folder under `base`, made when missing. */
export function ownerDir(base: string): string {
  const dir = join(base, formatOwner());
  if (!made.has(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (made.size === 0) process.once('exit', removeEmptyOwnerDirs);
    made.add(dir);
  }
  return dir;
}

/** A fresh, empty directory to mount on, in this process's folder under `base`. */
export function scratchMountPoint(base: string = DEFAULT_MOUNT_DIR): string {
  return mkdtempSync(join(ownerDir(base), 'm-'));
}

function removeEmptyOwnerDirs(): void {
  for (const dir of made) {
    try {
      rmdirSync(dir);
    } catch {
      // not empty (a run still going at exit): the next tsbuild reclaims it
    }
  }
}
