/**
 * The host system calls behind mounts and mtime restores (native/sys.c, built
 * by scripts/setup.sh with node-gyp): a call costs the kernel's work, where
 * mount(8)/umount(8)/touch(1) cost a fork and exec of this process (~4 ms) each.
 * Loaded on first use; when missing, a FailedPreconditionError says how to build it.
 */
import { createRequire } from 'node:module';
import { FailedPreconditionError } from '@tsbuild/core';

export interface Sys {
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  umount2(target: string, flags: number): void;
  /** umount2 on a thread-pool thread: the last unmount of a written overlay syncs its upper filesystem. */
  umount2Async(target: string, flags: number): Promise<void>;
  /** The mtime of `path` itself (symlinks not followed), to the nanosecond; atime unchanged. */
  setMtime(path: string, seconds: number, nanoseconds: number): void;
  /** An anonymous in-memory file (memfd, close-on-exec) holding `bytes`, sealed read-only; returns its fd. */
  memfdSecret(name: string, bytes: Uint8Array): number;
}

let loaded: Sys | undefined;

export function sys(): Sys {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('@tsbuild/runtime/native') as Sys;
  } catch (err) {
    throw new FailedPreconditionError(
      "the run engine's native helper (runtime/native) is not built: run scripts/setup.sh, or `npm run native -w @tsbuild/runtime`",
      { code: 'RUNTIME_NATIVE_MISSING', cause: err },
    );
  }
  return loaded;
}

/** An errno name from a Sys call's error (`EBUSY`), or undefined. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
