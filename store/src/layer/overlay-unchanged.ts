/**
 * Which upper-dir directories an overlay diff may leave out. Overlayfs copies a
 * directory up whenever anything below it is created, even a mount-point stub
 * the runtime removes again; such a directory, identical in mode, owner and
 * mtime (to the nanosecond) to its lower counterpart, is not a change
 * (containerd's overlay differ and `sameDirent` reason the same way). It is
 * still written as the parent of a changed child, like containerd's
 * change writer includes parents, so extractors create it with its real mode.
 */
import { lstatSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';

/** Synchronous, like the rest of the packers' per-entry metadata (see tar-walk.ts). */
export function isUnchangedDir(upperAbs: string, rel: string, lowerDirs: readonly string[]): boolean {
  for (const lower of lowerDirs) {
    const theirs = lstatQuiet(join(lower, rel));
    if (!theirs) continue;
    if (!theirs.isDirectory()) return false;
    const ours = lstatSync(upperAbs, { bigint: true });
    return ours.mode === theirs.mode && ours.uid === theirs.uid && ours.gid === theirs.gid && ours.mtimeNs === theirs.mtimeNs;
  }
  return false;
}

/** lstat, or undefined when it fails (the path is then looked up in the next lower). */
function lstatQuiet(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true, throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
