/**
 * Drops directories that overlayfs copied up without changing: a process
 * that only created and removed a file (the runtime's mount-point stubs for
 * /etc/hosts, a RUN's temp file) leaves its parent directory in the upper
 * dir, empty and with the lower's metadata. Such a directory is no change;
 * BuildKit's overlay differ skips it too, so `RUN true` gives an empty diff
 * (no layer) instead of a layer holding `etc/`.
 *
 * Removed only when, after pruning its children, it is empty and the
 * topmost lower dir holding the same path is a directory with the same mode,
 * owner and mtime (nanoseconds). Runs on the unmounted upper dir of an active
 * snapshot, before the diff is packed.
 */
import { lstatSync, readdirSync, rmdirSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';

export async function pruneCopyUps(upperDir: string, lowerDirs: readonly string[]): Promise<void> {
  if (lowerDirs.length === 0) return;
  pruneDir(upperDir, '', lowerDirs);
}

/**
 * Returns whether `rel` itself was removed. Only directories that also exist
 * in a lower layer can be copy-ups, and only below those can copy-ups hide, so
 * a new directory's subtree (a COPY of 20,000 files into /files) is never
 * walked: one `readdir` with file types per visited directory, no per-file stat.
 * Synchronous: the walk is that small, and as promises each call waited behind
 * other steps' fsyncs in the thread pool (~7 ms of a RUN's commit when four
 * RUN steps finished together).
 */
function pruneDir(upperDir: string, rel: string, lowerDirs: readonly string[]): boolean {
  const lower = rel === '' ? undefined : lowerStat(lowerDirs, rel);
  if (rel !== '' && !lower?.isDirectory()) return false;
  const abs = join(upperDir, rel);
  const entries = readdirSync(abs, { withFileTypes: true });
  let left = entries.length;
  for (const e of entries) if (e.isDirectory() && pruneDir(upperDir, join(rel, e.name), lowerDirs)) left--;
  if (rel === '' || left > 0) return false;
  const mine = lstatSync(abs, { bigint: true });
  if (!sameMeta(mine, lower!)) return false;
  rmdirSync(abs);
  return true;
}

function lowerStat(lowerDirs: readonly string[], rel: string): BigIntStats | undefined {
  for (const dir of lowerDirs) {
    const st = lstatSync(join(dir, rel), { bigint: true, throwIfNoEntry: false });
    if (st) return st;
  }
  return undefined;
}

function sameMeta(a: BigIntStats, b: BigIntStats): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.mtimeNs === b.mtimeNs;
}

/** The lowerdirs of an overlay mount list, top first. */
export function lowerDirsOf(mounts: ReadonlyArray<{ type: string; options: string[] }>): string[] {
  const opt = mounts.find((m) => m.type === 'overlay')?.options.find((o) => o.startsWith('lowerdir='));
  return opt ? opt.slice('lowerdir='.length).split(':') : [];
}
