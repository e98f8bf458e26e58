/**
 * DestWriter: every write into a destination root goes through here, so the
 * one rule holds everywhere — nothing is ever written outside `root`.
 *
 * Directories are resolved in-root (resolveInRoot: a symlinked directory in
 * the image is followed, but an absolute target restarts at `root`) and
 * remembered once verified as real directories; a file, link or symlink is
 * then created by name inside such a directory, after removing whatever
 * non-directory was there, with O_EXCL|O_NOFOLLOW — so an existing symlink at
 * the final component is replaced, never written through.
 *
 * Directory mtimes are applied by `finish()` (children first), because
 * creating entries inside a directory changes its mtime.
 *
 * Calls may run concurrently (copy writes many entries at once) as long as
 * they name different paths: a directory is resolved or created once, and
 * every caller waiting for it shares that one resolution.
 */
import { constants, type ReadStream } from 'node:fs';
import { chmod, chown, copyFile, lchown, link, lstat, lutimes, mkdir, open, rm, symlink, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFoundError, throwIfAborted } from '@tsbuild/core';
import { resolveInRoot } from './root-path.js';
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

export class DestWriter {
  /** Resolved (or resolving) directories by in-image path; `created` is true for the call that made one. */
  private readonly dirs = new Map<string, Promise<{ host: string; created: boolean }>>();
  private readonly dirTimes: Array<[host: string, mtime: number | Date]> = [];

  /** `newDirOwner`: owner of parent directories created on the way (mode 0755). */
  constructor(
    readonly root: string,
    private readonly newDirOwner: Owner = { uid: 0, gid: 0 },
    private readonly signal?: AbortSignal | undefined,
  ) {}

  /** Makes sure the in-image directory exists; returns its host path and whether it was created. `meta` is applied when given. */
  async ensureDir(inImage: string, meta?: EntryMeta): Promise<{ host: string; created: boolean }> {
    throwIfAborted(this.signal);
    const path = clean(inImage);
    let resolving = this.dirs.get(path);
    let created = false;
    let host: string;
    if (resolving) ({ host } = await resolving);
    else {
      resolving = this.resolveDir(path);
      this.dirs.set(path, resolving);
      const mine = resolving;
      // A failure is not remembered (as before: the next caller tries again); this caller reports it.
      mine.catch(() => this.dirs.get(path) === mine && this.dirs.delete(path));
      ({ host, created } = await resolving);
    }
    if (meta) {
      await chown(host, meta.uid, meta.gid);
      await chmod(host, meta.mode);
      if (meta.mtime !== undefined) this.dirTimes.push([host, meta.mtime]);
    }
    return { host, created };
  }

  /** Host path for a non-directory entry `inImage`, its parents created and any old non-directory removed. */
  async prepareLeaf(inImage: string): Promise<string> {
    const host = await this.leafHost(inImage);
    await removeOldLeaf(host, inImage);
    return host;
  }

  /**
   * Copies the regular file open as `source` (opened by the caller with
   * O_NOFOLLOW, so it is the file the caller checked) to `inImage`, then sets
   * owner, mode and mtime from `meta`. `sourceMode`: the source's permission
   * bits as the caller saw them.
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
    const host = await this.createLeaf(inImage, (to) => copyFile(from, to, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE));
    // lchown/lutimes do not follow a final symlink; `host` is the regular file just created.
    await lchown(host, meta.uid, meta.gid);
    // copyFile gave the file the source's permission bits; chown clears setuid/setgid, which then need setting again.
    if (meta.mode !== sourceMode || (meta.mode & 0o6000) !== 0) await chmod(host, meta.mode);
    if (meta.mtime !== undefined) await lutimes(host, meta.mtime, meta.mtime);
    return host;
  }

  /** Writes a regular file from a stream. */
  async writeFile(inImage: string, content: Readable | ReadStream, meta: EntryMeta): Promise<string> {
    const host = await this.prepareLeaf(inImage);
    const handle = await open(host, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      // Writes through the handle we own (closed below), one chunk at a time: streaming, with backpressure.
      for await (const chunk of content) {
        throwIfAborted(this.signal);
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Uint8Array);
        for (let off = 0; off < buf.length; ) off += (await handle.write(buf, off, buf.length - off)).bytesWritten;
      }
      await handle.chown(meta.uid, meta.gid);
      await handle.chmod(meta.mode); // after chown: chown clears setuid bits
      if (meta.mtime !== undefined) await handle.utimes(meta.mtime, meta.mtime);
    } finally {
      await handle.close();
    }
    return host;
  }

  async writeSymlink(inImage: string, target: string, meta: EntryMeta): Promise<string> {
    const host = await this.createLeaf(inImage, (h) => symlink(target, h));
    await lchown(host, meta.uid, meta.gid);
    if (meta.mtime !== undefined) await lutimes(host, meta.mtime, meta.mtime);
    return host;
  }

  /** A hard link to `existingHost` (a host path this writer produced). */
  async writeHardlink(inImage: string, existingHost: string): Promise<string> {
    return this.createLeaf(inImage, (h) => link(existingHost, h));
  }

  /** Applies directory mtimes, deepest first. Call once after all writes. */
  async finish(): Promise<void> {
    for (const [host, mtime] of [...this.dirTimes].reverse()) await utimes(host, mtime, mtime);
    this.dirTimes.length = 0;
  }

  /** Host path of the non-directory entry `inImage`, its parent directories made. */
  private async leafHost(inImage: string): Promise<string> {
    const path = clean(inImage);
    if (path === '/') throw new DestConflictError('cannot replace the root directory with a non-directory');
    const { host: parent } = await this.ensureDir(posix.dirname(path));
    return `${parent}/${posix.basename(path)}`;
  }

  /**
   * Creates the non-directory `inImage` with `create(host)`, which must fail
   * with EEXIST on any existing entry rather than replace or follow it
   * (O_EXCL, symlink(2), link(2) do). Nothing there yet, the usual case, costs
   * no lstat; otherwise the old entry is removed (a directory is a conflict)
   * and `create` runs again — the same outcome as prepareLeaf first.
   */
  private async createLeaf(inImage: string, create: (host: string) => Promise<unknown>): Promise<string> {
    const host = await this.leafHost(inImage);
    try {
      await create(host);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      await removeOldLeaf(host, inImage);
      await create(host);
    }
    return host;
  }

  private async resolveDir(path: string): Promise<{ host: string; created: boolean }> {
    if (path === '/') return { host: this.root, created: false };
    const { host: parent } = await this.ensureDir(posix.dirname(path));
    let host = `${parent}/${posix.basename(path)}`;
    let st = await lstat(host).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      host = await resolveInRoot(this.root, path, { followFinal: true });
      st = await lstat(host).catch(() => undefined);
      if (!st) {
        // A dangling in-root link: create its target (inside root by construction).
        await mkdir(host, { recursive: true, mode: 0o755 });
        return { host, created: true };
      }
    }
    if (st?.isDirectory()) return { host, created: false };
    if (st) throw new DestConflictError(`cannot copy to ${path}: not a directory`);
    try {
      await mkdir(host, 0o755);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      return this.resolveDir(path);
    }
    await chown(host, this.newDirOwner.uid, this.newDirOwner.gid);
    await chmod(host, 0o755);
    return { host, created: true };
  }
}

/** Removes the non-directory at `host` (in-image `inImage`) if there is one; a directory there is a DestConflictError. */
async function removeOldLeaf(host: string, inImage: string): Promise<void> {
  const st = await lstat(host).catch(() => undefined);
  if (st?.isDirectory()) throw new DestConflictError(`cannot overwrite directory ${clean(inImage)} with a non-directory`);
  if (st) await unlink(host);
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
