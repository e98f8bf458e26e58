/**
 * A layer diff of two full trees, for snapshotters that copy instead of
 * mounting overlays: entries added or changed in `upperDir` relative to
 * `lowerDir`, and a `.wh.` whiteout for each path gone from it (its subtree is
 * not walked).
 *
 * "Changed" (same type on both sides): mode, uid, gid, xattrs, symlink target
 * or device number differ; for directories also the mtime; for regular files
 * the size or the mtime (to the nanosecond), and when size and mtime are equal
 * the contents are compared byte for byte — a tool that rewrites a file
 * within the same second keeping its size must not be missed (same dev+ino on
 * both sides is known equal without reading). A type change emits the new
 * entry, which replaces the old one when applied.
 */
import type { Stats } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { throwIfAborted } from '@tsbuild/core';
import { clampMtime, entryChunks, entryFromStat, type LinkMap } from './tar-emit.js';
import { END_OF_ARCHIVE } from './tar-header.js';
import { toReadable, whiteoutEntry, type PackOptions } from './tar-pack.js';
import { compareNames, sortedNames } from './tar-walk.js';
import { WHITEOUT_PREFIX } from './whiteout.js';
import { readXattrs } from './xattr.js';

export interface TreeDiffSource {
  /** The parent tree; undefined means empty (the diff is the whole upper tree). */
  lowerDir: string | undefined;
  /** The new full tree. */
  upperDir: string;
}

export function packTreeDiff(source: TreeDiffSource, options: PackOptions = {}): Readable {
  return toReadable(diffTrees(source, options), options);
}

async function* diffTrees(source: TreeDiffSource, options: PackOptions): AsyncGenerator<Buffer> {
  yield* diffDir(source.lowerDir, source.upperDir, '', new Map(), options);
  yield END_OF_ARCHIVE;
}

async function* diffDir(lower: string | undefined, upper: string, rel: string, links: LinkMap, options: PackOptions): AsyncGenerator<Buffer> {
  const upperNames = await sortedNames(join(upper, rel));
  const lowerNames = lower === undefined ? [] : await sortedNames(join(lower, rel));
  const upperSet = new Set(upperNames);
  const parentMtime = clampMtime(await lstat(join(upper, rel)), options);
  const names = [...new Set([...upperNames, ...lowerNames])].sort(compareNames);
  for (const name of names) {
    throwIfAborted(options.signal);
    const childRel = rel === '' ? name : `${rel}/${name}`;
    if (!upperSet.has(name)) {
      const whiteout = rel === '' ? `${WHITEOUT_PREFIX}${name}` : `${rel}/${WHITEOUT_PREFIX}${name}`;
      yield* entryChunks(whiteoutEntry(whiteout, parentMtime), undefined, options);
      continue;
    }
    const abs = join(upper, childRel);
    const stat = await lstat(abs);
    const lowerAbs = lower === undefined ? undefined : join(lower, childRel);
    const lowerStat = lowerAbs === undefined ? undefined : await lstat(lowerAbs).catch(() => undefined);
    if (lowerStat === undefined || (await changed(lowerAbs!, lowerStat, abs, stat))) {
      const entry = await entryFromStat(abs, childRel, stat, links, options);
      if (entry) yield* entryChunks(entry, abs, options);
    }
    if (stat.isDirectory()) yield* diffDir(lowerStat?.isDirectory() ? lower : undefined, upper, childRel, links, options);
  }
}

function typeOf(s: Stats): number {
  return s.mode & 0o170000;
}

async function changed(lowerAbs: string, lower: Stats, upperAbs: string, upper: Stats): Promise<boolean> {
  if (typeOf(lower) !== typeOf(upper)) return true;
  if (lower.mode !== upper.mode || lower.uid !== upper.uid || lower.gid !== upper.gid) return true;
  if (lower.isSymbolicLink()) return (await readlink(lowerAbs)) !== (await readlink(upperAbs));
  if ((lower.isCharacterDevice() || lower.isBlockDevice()) && lower.rdev !== upper.rdev) return true;
  if (!(await sameXattrs(lowerAbs, upperAbs))) return true;
  if (lower.isDirectory()) return lower.mtimeMs !== upper.mtimeMs;
  if (!lower.isFile()) return lower.mtimeMs !== upper.mtimeMs;
  if (lower.size !== upper.size || !(await sameMtimeNs(lowerAbs, upperAbs))) return true;
  if (lower.dev === upper.dev && lower.ino === upper.ino) return false;
  return !(await sameContent(lowerAbs, upperAbs));
}

async function sameMtimeNs(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([lstat(a, { bigint: true }), lstat(b, { bigint: true })]);
  return sa.mtimeNs === sb.mtimeNs;
}

async function sameXattrs(a: string, b: string): Promise<boolean> {
  const [xa, xb] = await Promise.all([readXattrs(a), readXattrs(b)]);
  if (xa.size !== xb.size) return false;
  for (const [name, value] of xa) if (!xb.get(name)?.equals(value)) return false;
  return true;
}

/** Byte-for-byte comparison in 64 KiB steps (never reads a whole file). */
export async function sameContent(a: string, b: string): Promise<boolean> {
  const [fa, fb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const ba = Buffer.alloc(65536);
    const bb = Buffer.alloc(65536);
    for (;;) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, ba.length, null), fb.read(bb, 0, bb.length, null)]);
      if (ra.bytesRead !== rb.bytesRead) return false;
      if (ra.bytesRead === 0) return true;
      if (!ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}
