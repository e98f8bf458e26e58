/**
 * Writing one (already sanitized) tar entry at an absolute target inside the
 * root. Whatever was at the target is replaced, never written through: a
 * file over a symlink unlinks the symlink, a file over a hardlinked file gets
 * a new inode, a file over a directory removes the directory (like docker).
 * Ownership is set before the mode, since chown clears setuid/setgid.
 */
import { execFile } from 'node:child_process';
import { constants, type Stats } from 'node:fs';
import { lchown, link, lstat, lutimes, mkdir, open, rm, symlink, chmod, utimes, chown } from 'node:fs/promises';
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

export async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  return lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
}

/** Removes whatever is at `target` unless it is a directory and `keepDir`. Returns whether a directory remains. */
async function clear(target: string, keepDir: boolean): Promise<boolean> {
  const existing = await lstatOrUndefined(target);
  if (existing === undefined) return false;
  if (keepDir && existing.isDirectory()) return true;
  await rm(target, { recursive: true, force: true });
  return false;
}

export async function writeDirectory(e: TarReadEntry, target: string, ctx: WriteContext): Promise<void> {
  if (!(await clear(target, true))) await mkdir(target, { mode: 0o700 });
  await setOwnerAndMode(target, e, ctx);
  await setXattrs(target, e, ctx);
  ctx.dirTimes.push({ path: target, mtime: e.mtime });
}

/** Streams the body into a new inode created exclusively (O_EXCL|O_NOFOLLOW). Returns the bytes written. */
export async function writeFile(e: TarReadEntry, target: string, ctx: WriteContext): Promise<number> {
  await clear(target, false);
  const handle = await open(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  let bytes = 0;
  try {
    for await (const chunk of e.body) {
      // Awaiting each write is the backpressure: the tar is read no faster than the disk takes it.
      for (let off = 0; off < chunk.length; ) off += (await handle.write(chunk, off, chunk.length - off)).bytesWritten;
      bytes += chunk.length;
    }
    await handle.chown(e.uid, e.gid).catch((err) => ownerWarning(err, e, ctx));
    await handle.chmod(e.mode);
    await setXattrs(target, e, ctx);
    await handle.utimes(e.mtime, e.mtime);
  } finally {
    await handle.close();
  }
  return bytes;
}

export async function writeSymlink(e: TarReadEntry, target: string, ctx: WriteContext): Promise<void> {
  await clear(target, false);
  await symlink(e.linkpath, target);
  await lchown(target, e.uid, e.gid).catch((err) => ownerWarning(err, e, ctx));
  if (e.xattrs.size > 0) ctx.warn({ code: 'LAYER_XATTR_SKIPPED', message: 'xattrs on a symlink are not restored', entry: e.path });
  await lutimes(target, e.mtime, e.mtime);
}

/** `source` is a verified non-directory inside the root. */
export async function writeHardlink(source: string, target: string): Promise<void> {
  const [s, t] = await Promise.all([lstat(source), lstatOrUndefined(target)]);
  if (t !== undefined && t.dev === s.dev && t.ino === s.ino) return;
  await clear(target, false);
  await link(source, target);
}

/** FIFOs and device nodes (node has no mknod(2); mknod(1) does not follow a final symlink, and the target was cleared). */
export async function writeSpecial(e: TarReadEntry, target: string, ctx: WriteContext): Promise<void> {
  await clear(target, false);
  const kind = e.type === 'FIFO' ? ['p'] : [e.type === 'BlockDevice' ? 'b' : 'c', String(e.devmajor), String(e.devminor)];
  await run('mknod', ['-m', '600', '--', target, ...kind], ctx.signal ? { signal: ctx.signal } : {});
  await setOwnerAndMode(target, e, ctx);
  await setXattrs(target, e, ctx);
  await utimes(target, e.mtime, e.mtime);
}

/** A char device 0/0: an overlay whiteout. */
export async function writeOverlayWhiteout(target: string, ctx: WriteContext): Promise<void> {
  await clear(target, false);
  await run('mknod', ['-m', '000', '--', target, 'c', '0', '0'], ctx.signal ? { signal: ctx.signal } : {});
}

async function setOwnerAndMode(target: string, e: TarReadEntry, ctx: WriteContext): Promise<void> {
  await chown(target, e.uid, e.gid).catch((err) => ownerWarning(err, e, ctx));
  await chmod(target, e.mode);
}

function ownerWarning(err: NodeJS.ErrnoException, e: TarReadEntry, ctx: WriteContext): void {
  if (err.code !== 'EPERM') throw err;
  ctx.warn({ code: 'LAYER_CHOWN_FAILED', message: `cannot set owner ${e.uid}:${e.gid} (not root)`, entry: e.path });
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
