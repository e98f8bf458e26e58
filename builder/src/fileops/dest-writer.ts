/**
 * DestWriter: every write into a destination root goes through here, so the
 * one rule holds everywhere — nothing is ever written outside `root`.
 *
 * Directories are resolved in-root (resolveInRoot: a symlinked directory in
 * the image is followed, but an absolute target restarts at `root`) and
 * remembered once verified as real directories; a file, link or symlink is
 * then created by name inside such a directory, after removing whatever
 * non-directory was there (a directory too, for a tar: `replaceDirs`), with
 * O_EXCL|O_NOFOLLOW — so an existing symlink at the final component is
 * replaced, never written through. Whether a directory entry may go through
 * a symlink at its own name is the caller's choice (ExistingDir).
 *
 * Directory mtimes are applied by `finish()` (children first), because
 * creating entries inside a directory changes its mtime.
 *
 * Metadata work (resolving and creating directories, creating small files,
 * links and symlinks, owners, modes, times) is synchronous: these are
 * microsecond syscalls on a local filesystem, and their promise-based forms
 * cost far more than the calls (a thread-pool round trip, a promise and
 * garbage per call: copying 20,000 small files took ~3.9 s that way, ~0.4 s
 * so). Only file *data* of large files moves asynchronously (copyFile,
 * writeFile), so the event loop is never held for long; callers that loop
 * over many entries yield now and then (copy.ts).
 */
import { chmodSync, chownSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeSync, type ReadStream, type Stats } from 'node:fs';
import { copyFile, lstat, open, rm, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import { NotFoundError, throwIfAborted } from '@tsbuild/core';
import { resolveInRoot, resolveInRootSync } from '@tsbuild/core';
import { DestConflictError } from './errors.js';

export interface EntryMeta {
  /** Permission bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch (fractional) or a Date; undefined leaves the time as created. */
  mtime?: number | Date | undefined;
}

export interface Owner {
  uid: number;
  gid: number;
}

/**
 * What ensureDir does with an entry already at the path that is not a
 * directory: `follow` a symlink there (resolved in-root; the default, as for
 * a destination and its parents), or, for an entry of a copied tree, fail
 * (`nofollow`: fsutil's copyDirectoryOnly, "cannot copy to non-directory"),
 * or remove it and make the directory (`replace`: a tar's directory entry,
 * go-archive's Unpack).
 */
export type ExistingDir = 'follow' | 'nofollow' | 'replace';

export interface DestWriterOptions {
  /** Owner of the directories created on the way (default root). */
  newDirOwner?: Owner | undefined;
  /** Mode of the directories created on the way (default 0755; fsutil's MkdirAll gets an octal --chmod's, see copy.ts). */
  newDirMode?: number | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Tar semantics (go-archive Unpack): a non-directory written where a
   * directory is removes that directory, recursively, instead of failing.
   */
  replaceDirs?: boolean | undefined;
}

const CREATE_EXCL = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export class DestWriter {
  /** Resolved directories by in-image path: host path, and whether this writer created it. */
  private readonly dirs = new Map<string, { host: string; created: boolean }>();
  private readonly dirTimes: Array<[host: string, mtime: number | Date]> = [];

  private readonly newDirOwner: Owner;
  private readonly newDirMode: number;
  private readonly signal: AbortSignal | undefined;
  private readonly replaceDirs: boolean;

  constructor(
    readonly root: string,
    options: DestWriterOptions = {},
  ) {
    this.newDirOwner = options.newDirOwner ?? { uid: 0, gid: 0 };
    this.newDirMode = options.newDirMode ?? 0o755;
    this.signal = options.signal;
    this.replaceDirs = options.replaceDirs ?? false;
  }

  /** Makes sure the in-image directory exists; returns its host path and whether it was created. `meta` is applied when given. */
  async ensureDir(inImage: string, meta?: EntryMeta, existing: ExistingDir = 'follow'): Promise<{ host: string; created: boolean }> {
    return this.ensureDirSync(inImage, meta, existing);
  }

  /** ensureDir, synchronously. The first call for a path reports `created`; later ones see it existing. */
  ensureDirSync(inImage: string, meta?: EntryMeta, existing: ExistingDir = 'follow'): { host: string; created: boolean } {
    throwIfAborted(this.signal);
    const path = clean(inImage);
    if (existing !== 'follow' && path !== '/') this.notThroughLink(path, existing);
    const known = this.dirs.get(path);
    let resolved: { host: string; created: boolean };
    if (known) resolved = { host: known.host, created: false };
    else {
      resolved = this.resolveDir(path);
      this.dirs.set(path, resolved);
    }
    if (meta) {
      chownSync(resolved.host, meta.uid, meta.gid);
      chmodSync(resolved.host, meta.mode);
      if (meta.mtime !== undefined) this.dirTimes.push([resolved.host, meta.mtime]);
    }
    return resolved;
  }

  /** Host path for a non-directory entry `inImage`, its parents created and any old non-directory removed. */
  async prepareLeaf(inImage: string): Promise<string> {
    const host = this.leafHost(inImage);
    this.removeOldLeaf(host, inImage);
    return host;
  }

  /** For ensureDir with `nofollow` / `replace`: what is at `path` (its parent followed) if it is not a directory. */
  private notThroughLink(path: string, existing: ExistingDir): void {
    const { host: parent } = this.ensureDirSync(posix.dirname(path));
    const host = `${parent}/${posix.basename(path)}`;
    const st = lstatOrUndefined(host);
    if (!st || st.isDirectory()) return;
    if (existing === 'nofollow') throw new DestConflictError(`cannot copy to non-directory: ${path}`);
    unlinkSync(host);
    this.forget(path);
  }

  /** Opens a new regular file at `host` with O_EXCL|O_NOFOLLOW, replacing an old non-directory there. */
  private createExclusive(host: string, inImage: string): number {
    try {
      return openSync(host, CREATE_EXCL, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      this.removeOldLeaf(host, inImage);
      return openSync(host, CREATE_EXCL, 0o600);
    }
  }

  /** Drops what this writer remembers of `path` and below (it was replaced). */
  private forget(path: string): void {
    for (const key of this.dirs.keys()) if (key === path || key.startsWith(`${path}/`)) this.dirs.delete(key);
  }

  /** Removes the non-directory at `host` (in-image `inImage`) if there is one; a directory there is a DestConflictError, or removed with `replaceDirs`. */
  private removeOldLeaf(host: string, inImage: string): void {
    const st = lstatOrUndefined(host);
    if (st?.isDirectory()) {
      if (!this.replaceDirs) throw new DestConflictError(`cannot overwrite directory ${clean(inImage)} with a non-directory`);
      rmSync(host, { recursive: true, force: true });
      this.forget(clean(inImage));
    } else if (st) unlinkSync(host);
  }

  /**
   * Copies the regular file open as `source` (opened by the caller with
   * O_NOFOLLOW, so it is the file the caller checked) to `inImage`, then sets
   * owner, mode and mtime from `meta`. `sourceMode`: the source's permission
   * bits as the caller saw them. For large files (small ones: writeFileSync).
   *
   * The data moves in one thread-pool call: copyFile reflinks where the
   * filesystem can (FICLONE) and else copies in the kernel
   * (copy_file_range), instead of a read and a write per chunk through JS.
   * copyFile takes paths, so it is given `/proc/self/fd/N`: opening that
   * reopens the very file behind the caller's descriptor, never whatever a
   * path names now. COPYFILE_EXCL creates the file with O_EXCL, which fails
   * on any existing entry, a symlink included: nothing is written through.
   */
  async copyFile(inImage: string, source: FileHandle, sourceMode: number, meta: EntryMeta): Promise<string> {
    const from = `/proc/self/fd/${source.fd}`;
    const host = this.leafHost(inImage);
    const create = () => copyFile(from, host, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
    try {
      await create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      this.removeOldLeaf(host, inImage);
      await create();
    }
    // lchown/lutimes do not follow a final symlink; `host` is the regular file just created.
    lchownSync(host, meta.uid, meta.gid);
    // copyFile gave the file the source's permission bits; chown clears setuid/setgid, which then need setting again.
    if (meta.mode !== sourceMode || (meta.mode & 0o6000) !== 0) chmodSync(host, meta.mode);
    if (meta.mtime !== undefined) lutimesSync(host, meta.mtime, meta.mtime);
    return host;
  }

  /** Writes a regular file whose whole content is `data` (small files: one create, write, close). */
  writeFileSync(inImage: string, data: Uint8Array, meta: EntryMeta): string {
    const host = this.leafHost(inImage);
    const fd = this.createExclusive(host, inImage);
    try {
      for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
      finishFile(fd, meta);
    } finally {
      closeSync(fd);
    }
    return host;
  }

  /** Writes a regular file from a stream. */
  async writeFile(inImage: string, content: Readable | ReadStream, meta: EntryMeta): Promise<string> {
    const host = this.leafHost(inImage);
    const handle = await open(host, CREATE_EXCL, 0o600).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
      this.removeOldLeaf(host, inImage);
      return open(host, CREATE_EXCL, 0o600);
    });
    try {
      // Writes through the handle we own (closed below), one chunk at a time: streaming, with backpressure.
      for await (const chunk of content) {
        throwIfAborted(this.signal);
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        for (let off = 0; off < buf.length; ) off += (await handle.write(buf, off, buf.length - off)).bytesWritten;
      }
      finishFile(handle.fd, meta);
    } finally {
      await handle.close();
    }
    return host;
  }

  async writeSymlink(inImage: string, target: string, meta: EntryMeta): Promise<string> {
    return this.writeSymlinkSync(inImage, target, meta);
  }

  writeSymlinkSync(inImage: string, target: string, meta: EntryMeta): string {
    const host = this.createLeaf(inImage, (h) => symlinkSync(target, h));
    lchownSync(host, meta.uid, meta.gid);
    if (meta.mtime !== undefined) lutimesSync(host, meta.mtime, meta.mtime);
    return host;
  }

  /** A hard link to `existingHost` (a host path this writer produced). */
  async writeHardlink(inImage: string, existingHost: string): Promise<string> {
    return this.writeHardlinkSync(inImage, existingHost);
  }

  writeHardlinkSync(inImage: string, existingHost: string): string {
    return this.createLeaf(inImage, (h) => linkSync(existingHost, h));
  }

  /**
   * A FIFO or device node like `st` (its type and, for a device, its number),
   * made with mknod, never opened: fsutil's copyDevice (copy/copy_nowindows.go)
   * and diskwriter's handleTarTypeBlockCharFifo do the same for BuildKit's COPY.
   * mknod(1) as store's tar-apply-entry writeSpecial does: Node has no mknod(2),
   * these entries are rare, and mknod(1) does not follow a final symlink.
   */
  writeSpecialSync(inImage: string, st: { isFIFO(): boolean; isBlockDevice(): boolean; rdev: bigint }, meta: EntryMeta): string {
    const kind = st.isFIFO() ? ['p'] : [st.isBlockDevice() ? 'b' : 'c', String(majorOf(st.rdev)), String(minorOf(st.rdev))];
    const host = this.createLeaf(inImage, (h) => {
      if (lstatOrUndefined(h)) throw Object.assign(new Error(`${h} exists`), { code: 'EEXIST' });
      const r = spawnSync('mknod', ['-m', '600', '--', h, ...kind], { encoding: 'utf8' });
      if (r.error) throw r.error;
      if (r.status !== 0) throw new Error(`mknod ${inImage}: ${r.stderr.trim()}`);
    });
    lchownSync(host, meta.uid, meta.gid);
    chmodSync(host, meta.mode); // after chown, which clears setuid/setgid; chmod of a FIFO never opens it
    if (meta.mtime !== undefined) lutimesSync(host, meta.mtime, meta.mtime);
    return host;
  }

  /** Applies directory mtimes, deepest first. Call once after all writes. */
  async finish(): Promise<void> {
    for (const [host, mtime] of [...this.dirTimes].reverse()) utimesSync(host, mtime, mtime);
    this.dirTimes.length = 0;
  }

  /** Host path of the non-directory entry `inImage`, its parent directories made. */
  private leafHost(inImage: string): string {
    const path = clean(inImage);
    if (path === '/') throw new DestConflictError('cannot replace the root directory with a non-directory');
    const { host: parent } = this.ensureDirSync(posix.dirname(path));
    return `${parent}/${posix.basename(path)}`;
  }

  /**
   * Creates the non-directory `inImage` with `create(host)`, which must fail
   * with EEXIST on any existing entry rather than replace or follow it
   * (O_EXCL, symlink(2), link(2) do). Nothing there yet, the usual case, costs
   * no lstat; otherwise the old entry is removed (a directory is a conflict)
   * and `create` runs again — the same outcome as prepareLeaf first.
   */
  private createLeaf(inImage: string, create: (host: string) => void): string {
    const host = this.leafHost(inImage);
    try {
      create(host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      this.removeOldLeaf(host, inImage);
      create(host);
    }
    return host;
  }

  private resolveDir(path: string): { host: string; created: boolean } {
    if (path === '/') return { host: this.root, created: false };
    const { host: parent } = this.ensureDirSync(posix.dirname(path));
    const host = `${parent}/${posix.basename(path)}`;
    const st = lstatOrUndefined(host);
    if (st?.isSymbolicLink()) {
      // Through the link, resolved inside the root: a dangling one has its target (and the
      // target's missing parents) made like any created directory.
      const resolved = resolveInRootSync(this.root, path, { followFinal: true });
      const base = this.root.length > 1 ? this.root.replace(/\/+$/, '') : this.root;
      return this.ensureDirSync(resolved.slice(base.length) || '/');
    }
    if (st?.isDirectory()) return { host, created: false };
    if (st) throw new DestConflictError(`cannot copy to ${path}: not a directory`);
    try {
      mkdirSync(host, 0o755);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return this.resolveDir(path);
    }
    chownSync(host, this.newDirOwner.uid, this.newDirOwner.gid);
    chmodSync(host, this.newDirMode);
    return { host, created: true };
  }
}


/** Owner, then mode (chown clears setuid bits), then mtime, through the descriptor the writer owns. */
function finishFile(fd: number, meta: EntryMeta): void {
  fchownSync(fd, meta.uid, meta.gid);
  fchmodSync(fd, meta.mode);
  if (meta.mtime !== undefined) futimesSync(fd, meta.mtime, meta.mtime);
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}


/** Normalized absolute in-image path without a trailing slash. */
export function clean(p: string): string {
  const n = posix.normalize(`/${p}`);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** Removes `inImage` (any type, recursively) without following a final symlink. */
export async function removeInRoot(root: string, inImage: string, allowNotFound: boolean): Promise<void> {
  const path = clean(inImage);
  if (path === '/') throw new DestConflictError('refusing to remove the root directory');
  const parent = await resolveInRoot(root, posix.dirname(path), { followFinal: true });
  const host = `${parent}/${posix.basename(path)}`;
  const st = await lstat(host).catch(() => undefined);
  if (!st) {
    if (allowNotFound) return;
    throw new NotFoundError(`${path}: not found`, { code: 'FILEOPS_NOT_FOUND' });
  }
  await rm(host, { recursive: true, force: true });
}

/** Linux's dev_t encoding (glibc gnu_dev_major / gnu_dev_minor). */
function majorOf(dev: bigint): bigint {
  return ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
}

function minorOf(dev: bigint): bigint {
  return (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
}
