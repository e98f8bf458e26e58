/**
 * A deterministic walk of a directory tree: depth first, names of each
 * directory sorted by their UTF-8 bytes, a directory before its contents,
 * never following symlinks. Paths are relative to the root, `/`-separated,
 * without a leading `./`.
 *
 * Synchronous on purpose, like the packers' per-entry reads (xattrs, small
 * file bodies; tar-emit.ts). On a local filesystem lstat, readdir, listxattr
 * and a small read take microseconds; their promise-based forms cost a
 * thread-pool round trip, a promise (a FileHandle for open) and the GC behind
 * them for each. Measured on an overlay upper dir of 20,000 files of 8 bytes
 * (200 dirs × 100): packing took ~4.3 s with the async calls (open, read and
 * close ~1.2–1.4 s each, listxattr ~1.05 s, lstat ~0.9 s, GC 0.6 s), while the
 * same syscalls made synchronously take ~0.25 s. The packers give the event
 * loop a turn every few milliseconds (TarOutput.pace) and still stream large
 * file bodies asynchronously.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

export interface WalkItem {
  rel: string;
  abs: string;
  stat: Stats;
}

/** Byte-wise comparison of names, independent of locale and UTF-16 quirks. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** The names in `dir`, sorted by compareNames (each name encoded once, not once per comparison). */
export function sortedNames(dir: string): string[] {
  return readdirSync(dir)
    .map((name) => ({ name, bytes: Buffer.from(name) }))
    .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
    .map((n) => n.name);
}

/** Every entry under `root` (not the root itself), lstat'ed, in walk order. */
export function* walkTree(root: string, rel = ''): Generator<WalkItem> {
  const dir = rel === '' ? root : join(root, rel);
  for (const name of sortedNames(dir)) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const abs = join(dir, name);
    const stat = lstatSync(abs);
    yield { rel: childRel, abs, stat };
    if (stat.isDirectory()) yield* walkTree(root, childRel);
  }
}
