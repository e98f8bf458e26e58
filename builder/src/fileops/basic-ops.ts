/**
 * The small file ops (BuildKit's FileOp mkdir / mkfile / rm / symlink), all
 * resolving paths in-root through DestWriter: none can write outside `root`.
 * Paths are in-image paths (absolute, or relative to `/`).
 */
import { Readable } from 'node:stream';
import { lstat } from 'node:fs/promises';
import { posix } from 'node:path';
import { AlreadyExistsError, NotFoundError } from '@tsbuild/core';
import { DestWriter, clean, removeInRoot } from './dest-writer.js';
import { resolveInRoot } from '@tsbuild/core';

interface Common {
  root: string;
  path: string;
  signal?: AbortSignal | undefined;
}

interface Ownership {
  uid?: number | undefined;
  gid?: number | undefined;
}

/**
 * mkdir; with `parents` missing parents are created (owned like the leaf) and
 * an existing directory is fine and kept as it is — owner and mode untouched,
 * like BuildKit's MkdirAll (a WORKDIR under USER does not chown /home/user).
 */
export async function mkdir(options: Common & Ownership & { mode?: number; parents?: boolean }): Promise<void> {
  const owner = { uid: options.uid ?? 0, gid: options.gid ?? 0 };
  const path = clean(options.path);
  const writer = new DestWriter(options.root, { newDirOwner: owner, signal: options.signal });
  if (!options.parents) {
    const parent = await resolveInRoot(options.root, posix.dirname(path), { followFinal: true });
    const parentExists = await lstat(parent).then((s) => s.isDirectory(), () => false);
    if (!parentExists) throw new NotFoundError(`mkdir ${path}: parent directory does not exist`, { code: 'FILEOPS_NOT_FOUND' });
  }
  const { created } = await writer.ensureDir(path);
  if (!created && !options.parents) throw new AlreadyExistsError(`mkdir ${path}: file exists`, { code: 'FILEOPS_EXISTS' });
  if (created) await writer.ensureDir(path, { mode: options.mode ?? 0o755, ...owner });
}

/**
 * Writes a file (replacing any non-directory there). Missing parents are
 * created owned by the file's uid/gid with `dirMode` (default 0755): a COPY
 * heredoc is BuildKit's copy of a mkfile, whose parents fsutil's MkdirAll
 * makes with --chown's owner and an octal --chmod's mode.
 */
export async function mkfile(options: Common & Ownership & { data: string | Uint8Array; mode?: number; dirMode?: number }): Promise<void> {
  const owner = { uid: options.uid ?? 0, gid: options.gid ?? 0 };
  const writer = new DestWriter(options.root, { newDirOwner: owner, newDirMode: options.dirMode, signal: options.signal });
  await writer.writeFile(options.path, Readable.from([Buffer.from(options.data)]), { mode: options.mode ?? 0o644, ...owner });
}

/** Removes a path (recursively) without following a final symlink. */
export async function rm(options: Common & { allowNotFound?: boolean }): Promise<void> {
  await removeInRoot(options.root, options.path, options.allowNotFound ?? false);
}

/** Creates a symlink `path` → `target` (the target text is stored as is; it is never resolved on the host). */
export async function symlink(options: Common & Ownership & { target: string }): Promise<void> {
  const writer = new DestWriter(options.root, { signal: options.signal });
  await writer.writeSymlink(options.path, options.target, { mode: 0o777, uid: options.uid ?? 0, gid: options.gid ?? 0 });
}
