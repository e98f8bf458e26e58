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
  const names = await sortedNames(rel === '' ? root : join(root, rel));
  // A directory's entries are lstat'ed STAT_BATCH at a time, concurrently (one
  // thread-pool round trip per batch instead of per entry); they are still
  // yielded one by one in name order, so the walk's order is unchanged.
  for (let start = 0; start < names.length; start += STAT_BATCH) {
    throwIfAborted(options.signal);
    const batch = names.slice(start, start + STAT_BATCH).map((name) => {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      return { rel: childRel, abs: join(root, childRel) };
    });
    const stats = await Promise.all(batch.map((b) => lstat(b.abs)));
    for (let i = 0; i < batch.length; i++) {
      throwIfAborted(options.signal);
      const stat = stats[i]!;
      yield { ...batch[i]!, stat };
      if (stat.isDirectory()) yield* walkTree(root, options, batch[i]!.rel);
    }
  }
}

const STAT_BATCH = 64;
