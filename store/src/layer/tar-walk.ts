/**
 * A deterministic walk of a directory tree: depth first, names of each
 * directory sorted by their UTF-8 bytes, a directory before its contents,
 * never following symlinks. Paths are relative to the root, `/`-separated,
 * without a leading `./`.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '@tsbuild/core';

export interface WalkItem {
  rel: string;
  abs: string;
  stat: Stats;
}

/** Byte-wise comparison of names, independent of locale and UTF-16 quirks. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export async function sortedNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort(compareNames);
}

/**
 * Yields every entry under `root` (not the root itself). `descend` may veto
 * descending into a directory (e.g. a whiteout was emitted instead).
 */
export async function* walkTree(root: string, options: { signal?: AbortSignal } = {}, rel = ''): AsyncGenerator<WalkItem> {
  for (const name of await sortedNames(rel === '' ? root : join(root, rel))) {
    throwIfAborted(options.signal);
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const abs = join(root, childRel);
    const stat = await lstat(abs);
    yield { rel: childRel, abs, stat };
    if (stat.isDirectory()) yield* walkTree(root, options, childRel);
  }
}
