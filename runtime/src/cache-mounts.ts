/**
 * Persistent directories for `RUN --mount=type=cache`, keyed by id under a
 * base dir (the builder passes `<storeRoot>/cache-mounts`).
 *
 * Layout: `<base>/<sha256(id)>/<n>` instance directories and `<n>.lock` files.
 * - shared: everyone uses instance 0 at once;
 * - locked: instance 0, one user at a time (a lock file, so across processes too);
 * - private: the first instance nobody holds, a new one when all are busy.
 * A directory is created with uid/gid/mode on first use; later options are ignored, like BuildKit.
 */
import { createHash } from 'node:crypto';
import { chmod, chown, mkdir, utimes } from 'node:fs/promises';
import { CanceledError, acquireLock, tryLock } from '@tsbuild/core';
import { join } from 'node:path';
import type { CacheSharing } from './types.js';

export interface CacheMountRequest {
  id: string;
  sharing?: CacheSharing;
  uid?: number;
  gid?: number;
  mode?: number;
}

/** A cache directory in use; `release` must be called once when the step is done. */
export interface CacheMountLease {
  path: string;
  release(): Promise<void>;
}

export class CacheMountManager {
  constructor(readonly baseDir: string) {}

  async acquire(req: CacheMountRequest, { signal }: { signal?: AbortSignal } = {}): Promise<CacheMountLease> {
    const keyDir = join(this.baseDir, createHash('sha256').update(req.id).digest('hex'));
    await mkdir(keyDir, { recursive: true, mode: 0o700 });
    // Its mtime is its last use, for the build-cache GC (builder's cache-gc: `unused-for`, keep-duration).
    const now = new Date();
    await utimes(keyDir, now, now);
    const sharing = req.sharing ?? 'shared';
    if (sharing === 'shared') return { path: await this.instance(keyDir, 0, req), release: async () => {} };
    if (sharing === 'locked') {
      // A locked cache is held for a whole RUN: wait as long as its holder lives, like BuildKit's
      // getRefCacheDirNoCache(block=true) (solver/llbsolver/mounts/mount.go) waits, with no timeout.
      const unlock = await acquireLock(join(keyDir, '0.lock'), { timeoutMs: Infinity, ...(signal ? { signal } : {}) });
      const release = async () => unlock();
      return { path: await this.instance(keyDir, 0, req).catch(async (e) => { unlock(); throw e; }), release };
    }
    // Terminates: only finitely many instances can be held at once.
    for (let n = 0; ; n++) {
      if (signal?.aborted) throw new CanceledError('canceled while acquiring a cache mount');
      const unlock = await tryLock(join(keyDir, `${n}.lock`));
      if (unlock) return { path: await this.instance(keyDir, n, req).catch(async (e) => { unlock(); throw e; }), release: async () => unlock() };
    }
  }

  private async instance(keyDir: string, n: number, req: CacheMountRequest): Promise<string> {
    const dir = join(keyDir, String(n));
    try {
      await mkdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return dir;
      throw err;
    }
    await chown(dir, req.uid ?? 0, req.gid ?? 0);
    await chmod(dir, req.mode ?? 0o755);
    return dir;
  }
}
