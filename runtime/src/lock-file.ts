/**
 * An exclusive lock held as a file created with O_EXCL that records the
 * holder's pid. Works across processes; a lock whose holder died is broken
 * (pid reuse can keep a stale lock alive until that pid exits — acceptable for
 * cache directories, and why the pid is written rather than nothing).
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { CanceledError } from '@tsbuild/core';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock if free (or stale); returns a release function, or undefined when someone holds it. */
export async function tryLock(path: string): Promise<(() => Promise<void>) | undefined> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return () => unlink(path).catch(() => undefined);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(await readFile(path, 'utf8').catch(() => ''));
      // An empty file is a holder between open and write: treat as held.
      if (!pid || alive(pid)) return undefined;
      await unlink(path).catch(() => undefined);
    }
  }
  return undefined;
}

/** Waits for the lock, polling; rejects with CanceledError when the signal fires. */
export async function lock(path: string, { signal, pollMs = 25 }: { signal?: AbortSignal; pollMs?: number } = {}): Promise<() => Promise<void>> {
  for (;;) {
    if (signal?.aborted) throw new CanceledError('canceled while waiting for a cache mount lock');
    const release = await tryLock(path);
    if (release) return release;
    await new Promise((res) => setTimeout(res, pollMs));
  }
}
