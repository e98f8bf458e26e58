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
import { closeSync, constants, lstatSync, openSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { clampMtime, entryFromStat, SMALL_FILE, TarOutput, type LinkMap } from './tar-emit.js';
import { toReadable, whiteoutEntry, type PackOptions } from './tar-pack.js';
import { compareNames, sortedNames } from './tar-walk.js';
import { WHITEOUT_PREFIX } from './whiteout.js';
import { readXattrsSync } from './xattr.js';

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
  const out = new TarOutput(options);
  yield* diffDir(source.lowerDir, source.upperDir, '', new Map(), out, options);
  yield* out.end();
}

/**
 * One directory of the diff, then its subdirectories. Metadata is read
 * synchronously, as in the other packers (see tar-walk.ts).
 */
async function* diffDir(lower: string | undefined, upper: string, rel: string, links: LinkMap, out: TarOutput, options: PackOptions): AsyncGenerator<Buffer> {
  const upperNames = sortedNames(join(upper, rel));
  const lowerNames = lower === undefined ? [] : sortedNames(join(lower, rel));
  const upperSet = new Set(upperNames);
  const parentMtime = clampMtime(lstatSync(join(upper, rel)), options);
  const names = [...new Set([...upperNames, ...lowerNames])].sort(compareNames);
  for (const name of names) {
    await out.pace();
    const childRel = rel === '' ? name : `${rel}/${name}`;
    if (!upperSet.has(name)) {
      const whiteout = rel === '' ? `${WHITEOUT_PREFIX}${name}` : `${rel}/${WHITEOUT_PREFIX}${name}`;
      yield* out.entry(whiteoutEntry(whiteout, parentMtime));
      continue;
    }
    const abs = join(upper, childRel);
    const stat = lstatSync(abs);
    const lowerAbs = lower === undefined ? undefined : join(lower, childRel);
    const lowerStat = lowerAbs === undefined ? undefined : lstatQuiet(lowerAbs);
    if (lowerStat === undefined || (await changed(lowerAbs!, lowerStat, abs, stat))) {
      const entry = entryFromStat(abs, childRel, stat, links, options);
      if (entry) yield* out.entry(entry, abs);
    }
    if (stat.isDirectory()) yield* diffDir(lowerStat?.isDirectory() ? lower : undefined, upper, childRel, links, out, options);
  }
}

/** lstat, or undefined when it fails (treated as absent from the lower). */
function lstatQuiet(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

function typeOf(s: Stats): number {
  return s.mode & 0o170000;
}

async function changed(lowerAbs: string, lower: Stats, upperAbs: string, upper: Stats): Promise<boolean> {
  if (typeOf(lower) !== typeOf(upper)) return true;
  if (lower.mode !== upper.mode || lower.uid !== upper.uid || lower.gid !== upper.gid) return true;
  if (lower.isSymbolicLink()) return readlinkSync(lowerAbs) !== readlinkSync(upperAbs);
  if ((lower.isCharacterDevice() || lower.isBlockDevice()) && lower.rdev !== upper.rdev) return true;
  if (!sameXattrs(lowerAbs, upperAbs)) return true;
  if (lower.isDirectory()) return lower.mtimeMs !== upper.mtimeMs;
  if (!lower.isFile()) return lower.mtimeMs !== upper.mtimeMs;
  if (lower.size !== upper.size || !sameMtimeNs(lowerAbs, upperAbs)) return true;
  if (lower.dev === upper.dev && lower.ino === upper.ino) return false;
  return !(await sameContent(lowerAbs, upperAbs, upper.size));
}

function sameMtimeNs(a: string, b: string): boolean {
  return lstatSync(a, { bigint: true }).mtimeNs === lstatSync(b, { bigint: true }).mtimeNs;
}

function sameXattrs(a: string, b: string): boolean {
  const xa = readXattrsSync(a);
  const xb = readXattrsSync(b);
  if (xa.size !== xb.size) return false;
  for (const [name, value] of xa) if (!xb.get(name)?.equals(value)) return false;
  return true;
}

/**
 * Byte-for-byte comparison of two files (both of `size` bytes by lstat), in
 * 64 KiB steps, to the end of both (never reads a whole file). Small files
 * synchronously (a copying snapshotter's upper tree is a copy of the lower, so
 * this runs for nearly every unchanged file); larger ones asynchronously, so a
 * big file does not hold the event loop for the whole comparison.
 */
async function sameContent(a: string, b: string, size: number): Promise<boolean> {
  return size <= SMALL_FILE ? sameContentSync(a, b) : sameContentAsync(a, b);
}

const compareBuffers = [Buffer.alloc(65536), Buffer.alloc(65536)] as const;
/** O_NONBLOCK: a FIFO swapped in since the lstat must not block the main thread (no effect on regular files). */
const COMPARE_OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

function sameContentSync(a: string, b: string): boolean {
  const [ba, bb] = compareBuffers;
  const fa = openSync(a, COMPARE_OPEN_FLAGS);
  try {
    const fb = openSync(b, COMPARE_OPEN_FLAGS);
    try {
      for (;;) {
        const ra = readSync(fa, ba, 0, ba.length, null);
        const rb = readSync(fb, bb, 0, bb.length, null);
        if (ra !== rb) return false;
        if (ra === 0) return true;
        if (!ba.subarray(0, ra).equals(bb.subarray(0, rb))) return false;
      }
    } finally {
      closeSync(fb);
    }
  } finally {
    closeSync(fa);
  }
}

async function sameContentAsync(a: string, b: string): Promise<boolean> {
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
