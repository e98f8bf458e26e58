/**
 * checksumContext: the content checksum of exactly the context entries a
 * COPY/ADD selects — the input of its cache key (DESIGN.md, "The cache key").
 *
 * Covered, per selected entry: the root-relative name, the type, the
 * permission bits (all of them in 'exact' mode; only "executable or not" in
 * 'content' mode, which is `--context-hash=content`), uid/gid ('exact' only),
 * a symlink's target text, a file's sha256 (streamed,
 * through the ChecksumCache). Not covered: mtimes, atimes, inode numbers, the
 * absolute location of the context, and anything no pattern selects.
 *
 * The result also lists one checksum per entry so a cache miss can be
 * explained ("src/app.ts changed").
 *
 * Entries are named as the patterns name them and hashed as read: a
 * top-level source symlink, which COPY follows inside the context, counts
 * as its target's type and content under the link's name (select.ts), so
 * the key covers exactly what COPY reads; symlinks inside a selected
 * directory count as links (their target text).
 */
import { readlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { digestOf, throwIfAborted, type Digest } from '@tsbuild/core';
import { createExcludeMatcher, type PathMatcher } from './exclude-matcher.js';
import { selectSources, type SelectedEntry } from './select.js';
import { createMemoryChecksumCache, type ChecksumCache } from './checksum-cache.js';

export type ContextHashMode = 'exact' | 'content';

export interface ChecksumContextOptions {
  /** Absolute path of the build context. */
  contextDir: string;
  /** COPY/ADD source patterns, relative to the context, Go `filepath.Match` syntax per component. */
  patterns: readonly string[];
  /** COPY --exclude patterns. */
  exclude?: readonly string[] | undefined;
  /** The .dockerignore rules: an entry is absent when `matches(relPath)` is true. */
  ignore?: PathMatcher | undefined;
  /** Default 'exact'. */
  mode?: ContextHashMode | undefined;
  /** Stat-keyed content hash cache; default: a fresh memory cache. */
  cache?: ChecksumCache | undefined;
  /** Entries checksummed at once (default 32: for many small files the cost is thread-pool round trips, not CPU). */
  concurrency?: number | undefined;
  signal?: AbortSignal | undefined;
}

export interface ContextChecksum {
  digest: Digest;
  /** Root-relative path → that entry's checksum. */
  files: Record<string, string>;
}

/** Bumped whenever what an entry's checksum covers changes: old keys must not match new ones. */
const CHECKSUM_VERSION = 'tsbuild.context.v2';

/** Computes the checksum of the selected entries. Throws ContextPathNotFoundError / ContextPathEscapesError. */
export async function checksumContext(options: ChecksumContextOptions): Promise<ContextChecksum> {
  const { contextDir, signal } = options;
  const mode = options.mode ?? 'exact';
  const cache = options.cache ?? createMemoryChecksumCache();
  const exclude = options.exclude?.length ? createExcludeMatcher(options.exclude) : undefined;
  const sources = await selectSources({ root: contextDir, patterns: options.patterns, ignore: options.ignore, exclude, signal });

  const unique = new Map<string, SelectedEntry>();
  for (const source of sources) for (const e of source.entries) unique.set(e.rel, e);
  const entries = [...unique.values()].sort((a, b) => compare(a.rel, b.rel));

  const sums: string[] = new Array(entries.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const i = next++;
      throwIfAborted(signal);
      sums[i] = await entryChecksum(contextDir, entries[i]!, mode, cache, signal);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 32) }, worker));

  const files: Record<string, string> = {};
  entries.forEach((e, i) => (files[e.rel === '' ? '.' : e.rel] = sums[i]!));
  const digest = digestOf({ v: CHECKSUM_VERSION, mode, entries: entries.map((e, i) => [e.rel, sums[i]]) });
  return { digest, files };
}

/** The checksum of one entry: digest of its canonical header (and content digest for files). */
async function entryChecksum(root: string, e: SelectedEntry, mode: ContextHashMode, cache: ChecksumCache, signal: AbortSignal | undefined): Promise<string> {
  const abs = e.real ? `${root}/${e.real}` : root;
  const header: Record<string, unknown> = { type: typeOf(e.stat), ...permissions(e.stat, mode) };
  if (e.stat.isFile()) header.content = await cache.contentDigest(abs, e.real, e.stat, { signal });
  else if (e.stat.isSymbolicLink()) header.target = await readlink(abs);
  else if (e.stat.isBlockDevice() || e.stat.isCharacterDevice()) header.rdev = e.stat.rdev.toString();
  return digestOf(header);
}

function permissions(stat: BigIntStats, mode: ContextHashMode): Record<string, unknown> {
  const m = Number(stat.mode);
  if (mode === 'content') return stat.isSymbolicLink() ? {} : { exec: (m & 0o111) !== 0 };
  return { mode: (m & 0o7777).toString(8), uid: Number(stat.uid), gid: Number(stat.gid) };
}

function typeOf(stat: BigIntStats): string {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isFIFO()) return 'fifo';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice()) return 'char';
  return 'block';
}

/** Byte order of the path strings (locale-independent, stable everywhere). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
