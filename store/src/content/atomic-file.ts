import { randomUUID } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Flushes a directory entry to disk so a rename into it survives a crash.
 * Some filesystems refuse fsync on a directory (EINVAL/EISDIR); the rename
 * is still atomic there, only not durable, so that is not an error.
 */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    if (!['EINVAL', 'EISDIR', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await fh.close();
  }
}

/**
 * Writes `path` so readers see either the old content or the new, never a
 * mix: a temp file next to it (same filesystem), fsync, rename, fsync of the
 * directory. A failed write removes the temp file.
 *
 * `durable: false` skips both fsyncs, for files whose meaning ends with the
 * process that writes them (a build's lease names its pid and protects
 * nothing once that process is gone, so after a machine crash it is void
 * anyway): still atomic for concurrent readers, no longer flushed. A build
 * rewrites its lease once per step, and those flushes were a quarter of a
 * build's fsyncs.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: { durable?: boolean } = {}): Promise<void> {
  const durable = options.durable ?? true;
  const tmp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  if (durable) await fsyncDir(dirname(path));
}
