import { randomUUID } from 'node:crypto';
import { closeSync, fsync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/*
 * The small steps here (open, write into the page cache, close, rename) are
 * synchronous: each is microseconds, and as promises each cost a round trip
 * through libuv's thread pool, eight of them per write, which a step's commit
 * waits through several times. Only the flushes, which wait for the disk, go
 * to the thread pool.
 */

/** fsync(2) off the main thread. */
function flush(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Flushes a file (or directory) to disk: its fd opened and closed synchronously, the fsync off the main thread. */
export async function fsyncFile(path: string): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    await flush(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Flushes a directory entry to disk so a rename into it survives a crash.
 * Some filesystems refuse fsync on a directory (EINVAL/EISDIR); the rename
 * is still atomic there, only not durable, so that is not an error.
 */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    await fsyncFile(dir);
  } catch (err) {
    if (!['EINVAL', 'EISDIR', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
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
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
      if (durable) await flush(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  if (durable) await fsyncDir(dirname(path));
}
