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
 *
 * Speed (a no-op rebuild of a 20,000-file context is mostly this): the walk
 * and the per-entry work are synchronous — lstatSync, readlinkSync, small
 * files read and hashed in one readSync — because for small entries the
 * promise forms cost several times the syscalls. Only files over 64 KiB are
 * streamed, `concurrency` at a time. The loop yields every YIELD_EVERY
 * entries (and checks the abort signal). Each entry's canonical header is
 * written out directly instead of through canonicalJson: the bytes are the
 * same (keys in sorted order; the golden test holds them), at a fraction of
 * the cost.
 */
import { readlinkSync } from 'node:fs';
import { hash } from 'node:crypto';
import { throwIfAborted, type Digest } from '@tsbuild/core';
import { createExcludeMatcher, type PathMatcher } from './exclude-matcher.js';
import { selectWith, type Selected } from './select.js';
import { createMemoryChecksumCache, entryStatOf, type ChecksumCache, type EntryStat } from './checksum-cache.js';

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
  /** Files over 64 KiB streamed at once (default 8; smaller files are read synchronously). */
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

/** Entries checksummed between two yields to the event loop. */
const YIELD_EVERY = 256;

/** Computes the checksum of the selected entries. Throws ContextPathNotFoundError / ContextPathEscapesError. */
export async function checksumContext(options: ChecksumContextOptions): Promise<ContextChecksum> {
  const { contextDir, signal } = options;
  throwIfAborted(signal);
  const mode = options.mode ?? 'exact';
  const cache = options.cache ?? createMemoryChecksumCache();
  const exclude = options.exclude?.length ? createExcludeMatcher(options.exclude) : undefined;
  const sources = await selectWith({ root: contextDir, patterns: options.patterns, ignore: options.ignore, exclude, signal }, entryStatOf);

  let entries: Selected<EntryStat>[];
  if (sources.length === 1) entries = sources[0]!.entries.slice();
  else {
    const unique = new Map<string, Selected<EntryStat>>();
    for (const source of sources) for (const e of source.entries) unique.set(e.rel, e);
    entries = [...unique.values()];
  }
  entries.sort((a, b) => compare(a.rel, b.rel));

  const sums: string[] = new Array(entries.length);
  const streamed: number[] = [];
  for (let i = 0; i < entries.length; i++) {
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldNow(signal);
    const { real, stat } = entries[i]!;
    const known = cache.entryChecksum(real, stat, mode);
    if (known !== undefined) {
      sums[i] = known;
      continue;
    }
    const abs = real ? `${contextDir}/${real}` : contextDir;
    if (stat.isFile()) {
      const content = cache.contentDigestSync(abs, real, stat);
      if (content === undefined) streamed.push(i);
      else cache.setEntryChecksum(real, stat, mode, (sums[i] = entryChecksum(stat, mode, content)), content);
    } else cache.setEntryChecksum(real, stat, mode, (sums[i] = entryChecksum(stat, mode, stat.isSymbolicLink() ? readlinkSync(abs) : undefined)));
  }

  // Big files (and small ones that grew since their lstat): streamed, a few at a time.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < streamed.length) {
      const i = streamed[next++]!;
      throwIfAborted(signal);
      const { real, stat } = entries[i]!;
      const content = await cache.contentDigest(real ? `${contextDir}/${real}` : contextDir, real, stat, { signal });
      cache.setEntryChecksum(real, stat, mode, (sums[i] = entryChecksum(stat, mode, content)), content);
    }
  };
  if (streamed.length) await Promise.all(Array.from({ length: Math.min(streamed.length, Math.max(1, options.concurrency ?? 8)) }, worker));

  const files: Record<string, string> = {};
  const pairs: [string, string][] = new Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const rel = entries[i]!.rel;
    files[rel === '' ? '.' : rel] = sums[i]!;
    pairs[i] = [rel, sums[i]!];
  }
  // = digestOf({ v, mode, entries }): canonical JSON's key order is entries, mode, v.
  const digest = sha256Of(JSON.stringify({ entries: pairs, mode, v: CHECKSUM_VERSION }));
  return { digest, files };
}

/**
 * The checksum of one entry: the digest of the canonical JSON of its header
 * (type, permissions, and the content digest of a file, the target text of a
 * symlink, the device number of a device). Written out in canonicalJson's
 * sorted key order: content, exec, gid, mode, rdev, target, type, uid.
 */
function entryChecksum(stat: EntryStat, mode: ContextHashMode, contentOrTarget: string | undefined): string {
  const type = typeOf(stat);
  let json = '{';
  if (type === 'file') json += `"content":${JSON.stringify(contentOrTarget)},`;
  const m = stat.mode;
  if (mode === 'content') {
    if (type !== 'symlink') json += `"exec":${(m & 0o111) !== 0},`;
  } else json += `"gid":${stat.gid},"mode":"${(m & 0o7777).toString(8)}",`;
  if (type === 'block' || type === 'char') json += `"rdev":"${stat.rdev}",`;
  if (type === 'symlink') json += `"target":${JSON.stringify(contentOrTarget)},`;
  json += `"type":"${type}"`;
  if (mode !== 'content') json += `,"uid":${stat.uid}`;
  return sha256Of(`${json}}`);
}

function sha256Of(text: string): Digest {
  return `sha256:${hash('sha256', text, 'hex')}`;
}

function typeOf(stat: EntryStat): string {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  if (stat.isFIFO()) return 'fifo';
  if (stat.isSocket()) return 'socket';
  if (stat.isCharacterDevice()) return 'char';
  return 'block';
}

/** Lets other work run (and a cancel land) during a long synchronous loop. */
async function yieldNow(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  throwIfAborted(signal);
}

/** Byte order of the path strings (locale-independent, stable everywhere). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
