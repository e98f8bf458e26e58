import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { CanceledError, UnavailableError, throwIfAborted } from '@tsbuild/core';
import type { Cancellable } from '../types.js';

export interface LockOptions extends Cancellable {
  /** Give up after this long (UnavailableError code STORE_LOCK_TIMEOUT). Default 30 s. */
  timeoutMs?: number;
}

/**
 * Runs `fn` holding an exclusive lock file at `path`, across processes.
 * The lock is created with O_EXCL and holds `pid@hostname`. A lock whose pid
 * is gone (on this host) is stale and is broken; a lock file with no readable
 * owner is broken once it is older than 10 s (a crash between create and
 * write). Breaking is unlink-then-retry: a small window remains where two
 * waiters both see the same stale lock; the second unlink then removes a
 * fresh lock, which is why critical sections are kept short (read-modify-
 * write of one small file).
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  await acquire(path, options);
  try {
    return await fn();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

const HOST = hostname();

async function acquire(path: string, { signal, timeoutMs = 30_000 }: LockOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    throwIfAborted(signal);
    try {
      const fh = await open(path, 'wx', 0o644);
      try {
        await fh.writeFile(`${process.pid}@${HOST}\n`);
      } finally {
        await fh.close();
      }
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isStale(path)) {
      await unlink(path).catch(() => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      throw new UnavailableError(`timed out waiting for lock ${path}`, { code: 'STORE_LOCK_TIMEOUT' });
    }
    await sleep(delay, signal);
    delay = Math.min(delay * 2, 50);
  }
}

async function isStale(path: string): Promise<boolean> {
  const content = await readFile(path, 'utf8').catch(() => undefined);
  if (content === undefined) return false; // released meanwhile: just retry
  const m = /^(\d+)@(.*)\n$/.exec(content);
  if (!m) {
    const st = await stat(path).catch(() => undefined);
    return st !== undefined && Date.now() - st.mtimeMs > 10_000;
  }
  if (m[2] !== HOST) return false; // cannot probe another host's pids
  return !pidAlive(Number(m[1]));
}

/** Whether a process with this pid exists (EPERM means it exists but is not ours). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new CanceledError('canceled while waiting for a lock'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
