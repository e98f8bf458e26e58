/**
 * Exclusive lock files, across processes and, in this process, in the order
 * callers asked. The one implementation: the store guards index.json, leases,
 * snapshot metadata and GC with it, the runtime its `locked`/`private` cache
 * mounts, the CLI its container names.
 *
 * The lock is a file created with O_EXCL holding `pid@hostname`. A lock whose
 * pid is gone (on this host) is stale and is broken; a lock file with no
 * readable owner is broken once it is older than 10 s (a crash between create
 * and write). Breaking is unlink-then-retry: a small window remains where two
 * waiters both see the same stale lock; the second unlink then removes a
 * fresh lock, which is why critical sections are kept short.
 *
 * Lifecycle: `acquireLock` (waits) or `tryLock` (does not) returns a release
 * function; call it once when done (later calls do nothing). `withLock` holds
 * the lock around a function.
 */
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { CanceledError, UnavailableError, throwIfAborted } from './errors.js';

export interface LockOptions {
  signal?: AbortSignal;
  /** Give up after this long (UnavailableError code STORE_LOCK_TIMEOUT). Default 30 s; Infinity waits as long as the holder lives. */
  timeoutMs?: number;
}

/** Releases a lock; idempotent. */
export type ReleaseLock = () => void;

/** Runs `fn` holding the lock at `path`. */
export async function withLock<T>(path: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const release = await acquireLock(path, options);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Waits for the lock at `path`: first behind this process's earlier callers, then for the file. */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<ReleaseLock> {
  // Within this process, waiters queue on a promise: the lock file's polling (5, 10, 20, 40 ms…) is for
  // other processes. Four steps committing at once used to sleep through those backoffs one after another.
  const previous = inProcess.get(path) ?? Promise.resolve();
  const turn = enqueue(path, previous);
  try {
    await untilAborted(previous, options.signal);
    await acquire(path, options);
  } catch (err) {
    turn.leave();
    throw err;
  }
  return releaser(path, turn);
}

/** Takes the lock at `path` only if nobody (in this process or another) holds it or waits for it here. */
export async function tryLock(path: string): Promise<ReleaseLock | undefined> {
  if (inProcess.has(path)) return undefined;
  const turn = enqueue(path, Promise.resolve());
  try {
    if (await tryCreate(path)) return releaser(path, turn);
  } catch (err) {
    turn.leave();
    throw err;
  }
  turn.leave();
  return undefined;
}

/** The tail of each lock's in-process queue. It never rejects. */
const inProcess = new Map<string, Promise<void>>();

/** A place in the queue after `previous`; `leave` lets the next waiter go (once `previous` has settled). */
function enqueue(path: string, previous: Promise<void>): { leave(): void } {
  let done!: () => void;
  const tail = previous.then(() => new Promise<void>((resolve) => (done = resolve)));
  inProcess.set(path, tail);
  return {
    leave() {
      // `done` is set once `previous` settled; if this waiter gave up before, the next one waits for `previous` too.
      void previous.then(() => done());
      if (inProcess.get(path) === tail) inProcess.delete(path);
    },
  };
}

function releaser(path: string, turn: { leave(): void }): ReleaseLock {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try {
      unlinkSync(path);
    } catch {
      // broken by another process meanwhile: it is not ours any more
    }
    turn.leave();
  };
}

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
    if (await tryCreate(path)) return;
    if (Date.now() > deadline) {
      throw new UnavailableError(`timed out waiting for lock ${path}`, { code: 'STORE_LOCK_TIMEOUT' });
    }
    await sleep(delay, signal);
    delay = Math.min(delay * 2, 50);
  }
}

/** Creates the lock file, breaking a stale one first; false while someone live holds it. */
async function tryCreate(path: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // Synchronous: a create and a write of a few bytes, cheaper than two thread-pool round trips.
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, `${process.pid}@${HOST}\n`);
      } finally {
        closeSync(fd);
      }
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (!(await isStale(path))) return false;
    await unlink(path).catch(() => undefined);
  }
  return false;
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
