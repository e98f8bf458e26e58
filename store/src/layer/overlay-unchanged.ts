/**
 * Which upper-dir directories an overlay diff may leave out. Overlayfs copies a
 * directory up whenever anything below it is created, even a mount-point stub
 * the runtime removes again; such a directory, identical in mode, owner and
 * mtime (to the nanosecond) to its lower counterpart, is not a change
 * (containerd's overlay differ and `sameDirent` reason the same way). It is
 * still written as the parent of a changed child, like containerd's
 * change writer includes parents, so extractors create it with its real mode.
 */
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';

export async function isUnchangedDir(upperAbs: string, rel: string, lowerDirs: readonly string[]): Promise<boolean> {
  for (const lower of lowerDirs) {
    const theirs = await lstat(join(lower, rel), { bigint: true }).catch(() => undefined);
    if (!theirs) continue;
    if (!theirs.isDirectory()) return false;
    const ours = await lstat(upperAbs, { bigint: true });
    return ours.mode === theirs.mode && ours.uid === theirs.uid && ours.gid === theirs.gid && ours.mtimeNs === theirs.mtimeNs;
  }
  return false;
}
