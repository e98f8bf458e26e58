/**
 * Host-side mounts, as mount(2)/umount2(2) calls (sys.ts). What a `Mount`
 * asks of the kernel is a pure function of its plain data (`mountCalls`,
 * tested without root), parsed the way mount(8) parses `-o`: flag words
 * become MS_* bits, everything else is the filesystem's data string, and a
 * read-only bind is a bind followed by a read-only remount.
 */
import { InternalError } from '@tsbuild/core';
import { errnoCode, sys } from './sys.js';
import type { Mount } from './types.js';

/** Linux mount(2) flags (include/uapi/linux/mount.h). */
export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, REMOUNT: 32, DIRSYNC: 128,
  NOATIME: 1024, NODIRATIME: 2048, BIND: 4096, REC: 16384, RELATIME: 1 << 21, STRICTATIME: 1 << 24,
} as const;
const MNT_DETACH = 2;

/** Option words that are flags (set, or cleared for their negation); the rest goes to the filesystem as data. */
const FLAG_WORDS: Record<string, { set?: number; clear?: number }> = {
  ro: { set: MS.RDONLY }, rw: { clear: MS.RDONLY },
  nosuid: { set: MS.NOSUID }, suid: { clear: MS.NOSUID },
  nodev: { set: MS.NODEV }, dev: { clear: MS.NODEV },
  noexec: { set: MS.NOEXEC }, exec: { clear: MS.NOEXEC },
  sync: { set: MS.SYNCHRONOUS }, async: { clear: MS.SYNCHRONOUS }, dirsync: { set: MS.DIRSYNC },
  noatime: { set: MS.NOATIME }, nodiratime: { set: MS.NODIRATIME },
  relatime: { set: MS.RELATIME }, strictatime: { set: MS.STRICTATIME },
  bind: { set: MS.BIND }, rbind: { set: MS.BIND | MS.REC },
};

export interface MountCall {
  source: string | null;
  target: string;
  fstype: string | null;
  flags: number;
  data: string | null;
}

/** The mount(2) calls that mount `m` at `target`, in order. */
export function mountCalls(m: Mount, target: string): MountCall[] {
  let flags = m.type === 'bind' ? MS.BIND : 0;
  const data: string[] = [];
  for (const word of m.options) {
    const f = FLAG_WORDS[word];
    if (!f) data.push(word);
    else flags = (flags | (f.set ?? 0)) & ~(f.clear ?? 0);
  }
  if ((flags & MS.BIND) === 0) return [{ source: m.source, target, fstype: m.type, flags, data: data.length ? data.join(',') : null }];
  // The kernel ignores every flag but MS_REC on a new bind: the others take a remount of it.
  const calls: MountCall[] = [{ source: m.source, target, fstype: null, flags: flags & (MS.BIND | MS.REC), data: null }];
  const rest = flags & ~(MS.BIND | MS.REC);
  if (rest !== 0) calls.push({ source: null, target, fstype: null, flags: MS.REMOUNT | MS.BIND | rest, data: null });
  return calls;
}

export async function mount(m: Mount, target: string): Promise<void> {
  const calls = mountCalls(m, target);
  for (const [i, c] of calls.entries()) {
    try {
      sys().mount(c.source, c.target, c.fstype, c.flags, c.data);
    } catch (err) {
      if (i > 0) await unmount(target);
      throw new InternalError(`mounting ${m.type} ${m.source} at ${target} (${m.options.join(',')}): ${(err as Error).message}`, { cause: err });
    }
  }
}

/**
 * Unmounts `target`. A busy mount is retried briefly, then detached lazily
 * so that cleanup always completes (the caller removes the directory next);
 * a target that is not mounted is fine. `writable`: the mount may be a
 * written overlay, whose last unmount syncs the upper filesystem (several
 * milliseconds with other builds' writes in flight), so it is made on the
 * thread pool instead of stopping this thread.
 */
export async function unmount(target: string, { writable = false }: { writable?: boolean } = {}): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      if (writable) await sys().umount2Async(target, 0);
      else sys().umount2(target, 0);
      return;
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'EINVAL' || code === 'ENOENT') return; // not a mount point (any more)
      if (code !== 'EBUSY') throw new InternalError(`unmounting ${target}: ${(err as Error).message}`, { cause: err });
      if (attempt >= 5) {
        sys().umount2(target, MNT_DETACH);
        return;
      }
      await new Promise((res) => setTimeout(res, 20 * (attempt + 1)));
    }
  }
}

/** Mounts the layers of a rootfs in order at `target`; returns an undo that unmounts them in reverse. */
export async function mountAll(mounts: Mount[], target: string): Promise<() => Promise<void>> {
  let done = 0;
  const writable = mounts.some((m) => m.type === 'overlay' && m.options.some((o) => o.startsWith('upperdir=')));
  const undo = async () => {
    for (; done > 0; done--) await unmount(target, { writable });
  };
  try {
    for (const m of mounts) {
      await mount(m, target);
      done++;
    }
  } catch (err) {
    await undo();
    throw err;
  }
  return undo;
}
