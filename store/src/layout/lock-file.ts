import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { CanceledError, UnavailableError, throwIfAborted } from '@tsbuild/core';
import type { Cancellable } from '../types.js';

export interface LockOptions extends Cancellable {
  /** Give up after this long (UnavailableError code STORE_LOCK_TIMEOUT). Default 30 s. */
  timeoutMs?: number;
}

/**
 * Runs `fn` holding an exclusive lock file at `path`, across processes (and,
 * in this process, in the order callers asked for it).
 * The lock is created with O_EXCL and holds `pid@hostname`. A lock whose pid
 * is gone (on this host) is stale and is broken; a lock file with no readable
 * owner is broken once it is older than 10 s (a crash between create and
 * write). Breaking is unlink-then-retry: a small window remains where two
 * waiters both see the same stale lock; the second unlink then removes a
 * fresh lock, which is why critical sections are kept short (read-modify-
 * write of one small file).
 */
export async function withLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  // Within this process, waiters queue on a promise: the lock file's polling (5, 10, 20, 40 ms…) is for
  // other processes. Four steps committing at once used to sleep through those backoffs one after another.
  const previous = inProcess.get(path) ?? Promise.resolve();
  let release!: () => void;
  const mine = previous.then(() => new Promise<void>((resolve) => (release = resolve)));
  inProcess.set(path, mine);
  try {
    await untilAborted(previous, options.signal);
    await acquire(path, options);
    try {
      return await fn();
    } finally {
      try {
        unlinkSync(path);
      } catch {
        // broken by another process meanwhile: it is not ours any more
      }
    }
  } finally {
    // `release` is set once `previous` settled; if this waiter gave up before, the next one waits for `previous` too.
    void previous.then(() => release());
    if (inProcess.get(path) === mine) inProcess.delete(path);
  }
}

/** The tail of each lock's in-process queue. */
const inProcess = new Map<string, Promise<void>>();

function untilAborted(p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return p;
  throwIfAborted(signal);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(new CanceledError('canceled while waiting for a lock'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

const HOST = hostname();

async function acquire(path: string, { signal, timeoutMs = 30_000 }: LockOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    throwIfAborted(signal);
    try {
      // Synchronous: a create and a write of a few bytes, cheaper than two thread-pool round trips.
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, `${process.pid}@${HOST}\n`);
      } finally {
        closeSync(fd);
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
