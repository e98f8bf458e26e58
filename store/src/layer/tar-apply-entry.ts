/**
 * Writing one (already sanitized) tar entry at an absolute target inside the
 * root. Whatever was at the target is replaced, never written through: a
 * file over a symlink unlinks the symlink, a file over a hardlinked file gets
 * a new inode, a file over a directory removes the directory (like docker).
 * Ownership is set before the mode, since chown clears setuid/setgid.
 *
 * The metadata calls are synchronous: a layer is mostly small files, and one
 * trip through libuv's thread pool per lstat/open/chown/chmod/utimes/close
 * (shared with zlib's decompression) made unpacking a Debian base wait on the
 * pool most of the time (bench/registry.bench.ts). Each call is one short
 * syscall on a local disk; file bodies are still read chunk by chunk.
 */
import { execFile } from 'node:child_process';
import {
  chmodSync, chownSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync,
  symlinkSync, writeSync, type Stats,
} from 'node:fs';
import { link, rm, utimes } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { TarReadEntry } from './tar-read.js';
import type { LayerWarning } from './tar-errors.js';
import { isOverlayPrivateXattr, setXattr } from './xattr.js';

const run = promisify(execFile);

export interface WriteContext {
  signal?: AbortSignal;
  warn: (w: LayerWarning) => void;
  /** Directories whose mtime is set once their contents are written. */
  dirTimes: Array<{ path: string; mtime: number }>;
}

export function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

/** Removes whatever is at `target` unless it is a directory and `keepDir`. Returns whether a directory remains. */
async function clear(target: string, keepDir: boolean): Promise<boolean> {
  const existing = lstatOrUndefined(target);
  if (existing === undefined) return false;
  if (keepDir && existing.isDirectory()) return true;
  await rm(target, { recursive: true, force: true });
  return false;
}

export async function writeDirectory(e: TarReadEntry, target: string, ctx: WriteContext): Promise<void> {
  if (!(await clear(target, true))) mkdirSync(target, { mode: 0o700 });
  setOwnerAndMode(target, e, ctx);
  await setXattrs(target, e, ctx);
  ctx.dirTimes.push({ path: target, mtime: e.mtime });
}

/** Streams the body into a new inode created exclusively (O_EXCL|O_NOFOLLOW). Returns the bytes written. */
export async function writeFile(e: TarReadEntry, target: string, ctx: WriteContext): Promise<number> {
  await clear(target, false);
  const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let bytes = 0;
  try {
    // One chunk written before the next is read: the tar is read no faster than the disk takes it.
    for await (const chunk of e.body as AsyncIterable<Buffer>) {
      for (let off = 0; off < chunk.length; ) off += writeSync(fd, chunk, off, chunk.length - off);
      bytes += chunk.length;
    }
    owned(() => fchownSync(fd, e.uid, e.gid), e, ctx);
    fchmodSync(fd, e.mode);
    await setXattrs(target, e, ctx);
    futimesSync(fd, e.mtime, e.mtime);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

export async function writeSymlink(e: TarReadEntry, target: string, ctx: WriteContext): Promise<void> {
  await clear(target, false);
  symlinkSync(e.linkpath, target);
  owned(() => lchownSync(target, e.uid, e.gid), e, ctx);
  if (e.xattrs.size > 0) ctx.warn({ code: 'LAYER_XATTR_SKIPPED', message: 'xattrs on a symlink are not restored', entry: e.path });
  lutimesSync(target, e.mtime, e.mtime);
}

/** `source` is a verified non-directory inside the root. */
export async function writeHardlink(source: string, target: string): Promise<void> {
  const s = lstatSync(source);
  const t = lstatOrUndefined(target);
  if (t !== undefined && t.dev === s.dev && t.ino === s.ino) return;
  await clear(target, false);
  await link(source, target);
}

/** FIFOs and device nodes (node has no mknod(2); mknod(1) does not follow a final symlink, and the target was cleared). */
export async function writeSpecial(e: TarReadEntry, target: string, ctx: WriteContext): Promise<void> {
  await clear(target, false);
  const kind = e.type === 'FIFO' ? ['p'] : [e.type === 'BlockDevice' ? 'b' : 'c', String(e.devmajor), String(e.devminor)];
  await run('mknod', ['-m', '600', '--', target, ...kind], ctx.signal ? { signal: ctx.signal } : {});
  setOwnerAndMode(target, e, ctx);
  await setXattrs(target, e, ctx);
  await utimes(target, e.mtime, e.mtime);
}

/** A char device 0/0: an overlay whiteout. */
export async function writeOverlayWhiteout(target: string, ctx: WriteContext): Promise<void> {
  await clear(target, false);
  await run('mknod', ['-m', '000', '--', target, 'c', '0', '0'], ctx.signal ? { signal: ctx.signal } : {});
}

function setOwnerAndMode(target: string, e: TarReadEntry, ctx: WriteContext): void {
  owned(() => chownSync(target, e.uid, e.gid), e, ctx);
  chmodSync(target, e.mode);
}

/** Runs a chown; EPERM (not root) is a warning, not a failure. */
function owned(chown: () => void, e: TarReadEntry, ctx: WriteContext): void {
  try {
    chown();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    ctx.warn({ code: 'LAYER_CHOWN_FAILED', message: `cannot set owner ${e.uid}:${e.gid} (not root)`, entry: e.path });
  }
}

/** Restores the entry's xattrs; overlay-private ones are dropped (a layer must not smuggle overlay redirects or opaque markers). */
async function setXattrs(target: string, e: TarReadEntry, ctx: WriteContext): Promise<void> {
  for (const [name, value] of e.xattrs) {
    if (isOverlayPrivateXattr(name)) {
      ctx.warn({ code: 'LAYER_XATTR_SKIPPED', message: `overlay-private xattr ${name} dropped`, entry: e.path });
      continue;
    }
    await setXattr(target, name, value).catch((err: Error) =>
      ctx.warn({ code: 'LAYER_XATTR_FAILED', message: `cannot set xattr ${name}: ${err.message}`, entry: e.path }),
    );
  }
}
