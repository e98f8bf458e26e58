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
 * promise forms cost several times the syscalls; an entry is checksummed
 * as the walk meets it, and only its path and checksum are kept. A warm
 * entry costs one lstat and one cache lookup (the cache keeps entry
 * checksums). Only files over 64 KiB are streamed, `concurrency` at a time.
 * The walk yields every 256 entries (and checks the abort signal). Each
 * entry's canonical header is written out directly instead of through
 * canonicalJson: the bytes are the same (keys in sorted order; the golden
 * test holds them), at a fraction of the cost.
 */
import { readlinkSync } from 'node:fs';
import { hash } from 'node:crypto';
import { throwIfAborted, type Digest } from '@tsbuild/core';
import { createExcludeMatcher, type PathMatcher } from './exclude-matcher.js';
import { visitSelection, type Selected } from './select.js';
import { createMemoryChecksumCache, entryStatOf, type ChecksumCache, type EntryStat } from './checksum-cache.js';

export type ContextHashMode = 'exact' | 'content';

export interface ChecksumContextOptions {
  /** Absolute path of the build context. */
  contextDir: string;
  /** COPY/ADD source patterns, relative to the context, Go `filepath.Match` syntax per component. */
  patterns: readonly string[];
  /** COPY --exclude patterns. */
  exclude?: readonly string[] | undefined;
  /** COPY --parents: the patterns select as select.ts visitParents says. */
  parents?: boolean | undefined;
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

/** Where a content map carries its contentDigestOf (builder/src/solver/cache-key.ts), so the key need not compute it. */
const CONTENT_DIGEST = Symbol.for('tsbuild.contentDigest');

/** Bumped whenever what an entry's checksum covers changes: old keys must not match new ones. */
export const CHECKSUM_VERSION = 'tsbuild.context.v2';

/** Computes the checksum of the selected entries. Throws ContextPathNotFoundError / ContextPathEscapesError. */
export async function checksumContext(options: ChecksumContextOptions): Promise<ContextChecksum> {
  const { contextDir, signal } = options;
  throwIfAborted(signal);
  const mode = options.mode ?? 'exact';
  const cache = options.cache ?? createMemoryChecksumCache();
  const exclude = options.exclude?.length ? createExcludeMatcher(options.exclude) : undefined;

  // Each entry is checksummed as the walk meets it (it yields every 256 entries); only its path and checksum are kept.
  const rels: string[] = [];
  const sums: string[] = [];
  const streamed: { i: number; real: string; stat: EntryStat }[] = [];
  const visit = ({ rel, real, stat }: Selected<EntryStat>): void => {
    const i = rels.length;
    rels.push(rel);
    let sum = cache.entryChecksum(real, stat, mode);
    if (sum === undefined) {
      const abs = real ? `${contextDir}/${real}` : contextDir;
      if (stat.isFile()) {
        const content = cache.contentDigestSync(abs, real, stat);
        if (content === undefined) {
          streamed.push({ i, real, stat });
          sum = '';
        } else cache.setEntryChecksum(real, stat, mode, (sum = entryChecksum(stat, mode, content)), content);
      } else cache.setEntryChecksum(real, stat, mode, (sum = entryChecksum(stat, mode, stat.isSymbolicLink() ? readlinkSync(abs) : undefined)));
    }
    sums.push(sum);
  };
  await visitSelection({ root: contextDir, patterns: options.patterns, ignore: options.ignore, exclude, parents: options.parents, signal }, entryStatOf, { entry: visit });

  // Big files (and small ones that grew since their lstat): streamed, a few at a time.
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < streamed.length) {
      const { i, real, stat } = streamed[next++]!;
      throwIfAborted(signal);
      const content = await cache.contentDigest(real ? `${contextDir}/${real}` : contextDir, real, stat, { signal });
      cache.setEntryChecksum(real, stat, mode, (sums[i] = entryChecksum(stat, mode, content)), content);
    }
  };
  if (streamed.length) await Promise.all(Array.from({ length: Math.min(streamed.length, Math.max(1, options.concurrency ?? 8)) }, worker));

  // In path byte order, each path once (two sources can select the same entry: the last one counts).
  const order = Array.from(rels.keys());
  if (!strictlySorted(rels)) order.sort((a, b) => compare(rels[a]!, rels[b]!) || a - b);
  const files: Record<string, string> = {};
  const pairs: [string, string][] = [];
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    const rel = rels[i]!;
    if (k + 1 < order.length && rels[order[k + 1]!] === rel) continue;
    files[rel === '' ? '.' : rel] = sums[i]!;
    pairs.push([rel, sums[i]!]);
  }
  const entriesJson = JSON.stringify(pairs);
  // = digestOf({ v, mode, entries }): canonical JSON's key order is entries, mode, v.
  const digest = sha256Of(`{"entries":${entriesJson},"mode":${JSON.stringify(mode)},"v":${JSON.stringify(CHECKSUM_VERSION)}}`);
  // The map's own digest as cache keys take it (solver contentDigestOf: its sorted [path, checksum] pairs), made
  // here from what is at hand instead of by the key from a 20,000-key object. Non-enumerable: nothing copies it.
  const filesJson = pairs[0]?.[0] === '' ? JSON.stringify(Object.keys(files).sort().map((p) => [p, files[p]])) : entriesJson;
  Object.defineProperty(files, CONTENT_DIGEST, { value: sha256Of(filesJson) });
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

function strictlySorted(paths: readonly string[]): boolean {
  for (let i = 1; i < paths.length; i++) if (!(paths[i - 1]! < paths[i]!)) return false;
  return true;
}

/** Byte order of the path strings (locale-independent, stable everywhere). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
