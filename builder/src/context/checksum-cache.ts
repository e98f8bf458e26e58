/**
 * ChecksumCache: context entries' checksums keyed by stat, so checksumming
 * an unchanged context costs one lstat per entry and no reads or hashing.
 *
 * Key (`statKeyOf`): size + mtime + ctime + inode + device + mode + uid +
 * gid, per root-relative path. BuildKit's contenthash keys on stat without
 * ctime, so an edit that keeps the size and restores the mtime (`touch -r`,
 * some sync tools) on the same inode goes unseen there. We add ctime, which
 * user space cannot set: such an edit is seen too; only changing the system
 * clock (or a raw block device edit) could fool the key. The price:
 * chmod/chown/link also rehash a file. Times are the lstat's milliseconds
 * as doubles (sub-microsecond: far finer than the kernel's file timestamps,
 * which tick with its coarse clock); the number form of lstat costs less
 * than the bigint one, in time and in garbage.
 *
 * Per path it keeps the file's content digest and the entry's checksum in
 * the last hash mode used (checksum.ts; a function of type, mode, uid, gid
 * and content or symlink target, all of which the key covers — a symlink
 * cannot be rewritten in place), so a warm walk hashes nothing at all.
 *
 * Lifecycle: `openChecksumCache({ dir, contextDir })` loads
 * `<dir>/<sha256(contextDir)>.json` once (a missing or corrupt file is an
 * empty cache); lookups happen any number of times, concurrently (the same
 * big file in flight is hashed once — several COPYs of one build share the
 * work); `save()` writes the file atomically (temp + fsync + rename) when
 * something changed, and not at all when nothing did (a no-op rebuild).
 * `createMemoryChecksumCache()` is the same without a file. Entries of
 * deleted files are not pruned (the file is an accelerator; store GC may
 * delete it at any time).
 *
 * File format (v2; the name keeps its `.json` suffix, which du knows):
 * NUL-terminated fields, `tsbuild.checksums.v2\0`, then per entry
 * `rel\0statKey\0contentDigest\0mode\0checksum\0` (empty fields for what is
 * not known). NUL is the one byte a path cannot hold, so nothing is escaped.
 * Loading indexes the paths and leaves the other fields in the file's one
 * string, read in place on lookup: 20,000 entries load in ~10 ms, against
 * ~35 ms for the v1 JSON object of content digests alone (a v1 file reads
 * as an empty cache: the first build after the upgrade rehashes once).
 */
import { lstatSync, type Stats } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sha256, digestHex, throwIfAborted, type Digest } from '@tsbuild/core';
import { hashFile, hashSmallFileSync, SMALL_FILE } from './hash-file.js';
import type { StatLike } from './select.js';

export interface ChecksumCacheStats {
  /** File lookups answered from the cache (no read). */
  hits: number;
  /** Files whose content was read and hashed. */
  hashed: number;
  bytesHashed: number;
}

const FORMAT = 'tsbuild.checksums.v2';
/** Fields per entry in the file. */
const WIDTH = 5;

/** One path's cached facts: the key they hold for, content digest ('' if none), hash mode and checksum ('' if none). */
type Record_ = [statKey: string, content: string, mode: string, sum: string];

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

/**
 * What the context checksum keeps of an entry's lstat: the fields its
 * checksum covers and its cache key. Small on purpose (see selectWith).
 */
export class EntryStat implements StatLike {
  constructor(
    /** st_mode: type and permission bits. */
    readonly mode: number,
    readonly uid: number,
    readonly gid: number,
    readonly size: number,
    /** statKeyOf the lstat. */
    readonly key: string,
    /** A device's st_rdev in decimal (exact, from a bigint lstat); '' for anything else. */
    readonly rdev: string,
  ) {}
  isFile(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }
  isDirectory(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }
  isFIFO(): boolean {
    return (this.mode & S_IFMT) === S_IFIFO;
  }
  isSocket(): boolean {
    return (this.mode & S_IFMT) === S_IFSOCK;
  }
  isCharacterDevice(): boolean {
    return (this.mode & S_IFMT) === S_IFCHR;
  }
  isBlockDevice(): boolean {
    return (this.mode & S_IFMT) === S_IFBLK;
  }
}

/** The EntryStat of `path` (not following a final symlink); undefined when nothing is there. */
export function entryStatOf(path: string): EntryStat | undefined {
  let st: Stats | undefined;
  try {
    st = lstatSync(path, { throwIfNoEntry: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
  if (!st) return undefined;
  const device = st.isCharacterDevice() || st.isBlockDevice();
  const rdev = device ? (lstatSync(path, { bigint: true, throwIfNoEntry: false })?.rdev.toString() ?? '') : '';
  return new EntryStat(st.mode, st.uid, st.gid, st.size, statKeyOf(st), rdev);
}

/** Stat fields that change whenever an entry's content or metadata is rewritten. */
export function statKeyOf(st: Stats): string {
  return `${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}:${st.dev}:${st.mode}:${st.uid}:${st.gid}`;
}

export class ChecksumCache {
  readonly stats: ChecksumCacheStats = { hits: 0, hashed: 0, bytesHashed: 0 };
  /** The file as loaded (a v2 file, or '' for none). Never mutated; fields are read in place. */
  private readonly text: string;
  /** rel → offset in `text` of its statKey field. */
  private readonly index = new Map<string, number>();
  /** Entries learnt since loading (they win over `text`). */
  private readonly updated = new Map<string, Record_>();
  private dirty = false;
  private readonly inFlight = new Map<string, { statKey: string; promise: Promise<Digest> }>();

  /** `file`: where save() writes; undefined for a memory-only cache. `text`: a v2 file's content (see indexOf). */
  constructor(
    private readonly file: string | undefined,
    text = '',
  ) {
    const index = indexOf(text);
    this.text = index ? text : '';
    if (index) this.index = index;
  }

  /** The checksum of entry `rel` in hash mode `mode`, if known for this stat key (a file's counts as a hit). */
  entryChecksum(rel: string, stat: EntryStat, mode: string): string | undefined {
    // The hot path of a no-op rebuild: one Map lookup, fields compared in place, one slice.
    let sum: string | undefined;
    const mine = this.updated.size === 0 ? undefined : this.updated.get(rel);
    if (mine) sum = mine[0] === stat.key && mine[2] === mode ? mine[3] : undefined;
    else {
      const at = this.index.get(rel);
      if (at === undefined || !this.fieldIs(at, stat.key)) return undefined;
      const modeAt = this.text.indexOf('\0', at + stat.key.length + 1) + 1;
      if (!this.fieldIs(modeAt, mode)) return undefined;
      sum = this.fieldAt(modeAt + mode.length + 1);
    }
    if (!sum) return undefined;
    if (stat.isFile()) this.stats.hits++;
    return sum;
  }

  /** Records entry `rel`'s checksum in `mode` (with its content digest, for a file). */
  setEntryChecksum(rel: string, stat: EntryStat, mode: string, sum: string, content = ''): void {
    const known = this.record(rel, stat.key);
    if (known && known[1] === content && known[2] === mode && known[3] === sum) return;
    this.updated.set(rel, [stat.key, content, mode, sum]);
    this.dirty = true;
  }

  /**
   * The content digest of the regular file `abs` (context path `rel`) if it
   * can be had without waiting: from the cache, or for a small file read and
   * hashed synchronously (and remembered). Undefined: call contentDigest().
   */
  contentDigestSync(abs: string, rel: string, stat: EntryStat): Digest | undefined {
    const known = this.knownContent(rel, stat.key);
    if (known !== undefined) {
      this.stats.hits++;
      return known;
    }
    if (stat.size > SMALL_FILE || this.inFlight.has(rel)) return undefined;
    const digest = hashSmallFileSync(abs, stat.size);
    if (digest !== undefined) this.remember(rel, stat, digest);
    return digest;
  }

  /** The content digest of the regular file `abs` (context path `rel`) whose lstat is `stat`. */
  contentDigest(abs: string, rel: string, stat: EntryStat, options: { signal?: AbortSignal | undefined } = {}): Promise<Digest> {
    const statKey = stat.key;
    const known = this.knownContent(rel, statKey);
    if (known !== undefined) {
      this.stats.hits++;
      return Promise.resolve(known);
    }
    const flying = this.inFlight.get(rel);
    if (flying && flying.statKey === statKey) {
      this.stats.hits++;
      return flying.promise;
    }
    const promise = hashFile(abs, { ...options, size: stat.size }).then((digest) => {
      this.remember(rel, stat, digest);
      return digest;
    }).finally(() => {
      if (this.inFlight.get(rel)?.promise === promise) this.inFlight.delete(rel);
    });
    this.inFlight.set(rel, { statKey, promise });
    return promise;
  }

  /** Persists the cache if it changed; no-op for a memory cache. Atomic: readers see the old or the new file. */
  async save(options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    throwIfAborted(options.signal);
    if (!this.file || !this.dirty) return;
    const parts: string[] = [`${FORMAT}\0`];
    for (const [rel, at] of this.index) {
      if (this.updated.has(rel)) continue;
      let end = at;
      for (let k = 0; k < WIDTH - 1; k++) end = this.text.indexOf('\0', end) + 1;
      parts.push(this.text.slice(at - rel.length - 1, end));
    }
    for (const [rel, r] of this.updated) parts.push(`${rel}\0${r.join('\0')}\0`);
    const body = parts.join('');
    const tmp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(body);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(tmp, this.file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    this.dirty = false;
  }

  /** Whether the field at `at` is exactly `value`. */
  private fieldIs(at: number, value: string): boolean {
    return this.text.startsWith(value, at) && this.text.charCodeAt(at + value.length) === 0;
  }

  /** The field at `at` ('' when empty). */
  private fieldAt(at: number): string {
    return this.text.slice(at, this.text.indexOf('\0', at));
  }

  /** What is known of `rel` under this stat key. */
  private record(rel: string, statKey: string): Readonly<Record_> | undefined {
    const mine = this.updated.size === 0 ? undefined : this.updated.get(rel);
    if (mine) return mine[0] === statKey ? mine : undefined;
    const at = this.index.get(rel);
    if (at === undefined || !this.fieldIs(at, statKey)) return undefined;
    const contentAt = at + statKey.length + 1;
    const content = this.fieldAt(contentAt);
    const modeAt = contentAt + content.length + 1;
    const mode = this.fieldAt(modeAt);
    return [statKey, content, mode, this.fieldAt(modeAt + mode.length + 1)];
  }

  private knownContent(rel: string, statKey: string): Digest | undefined {
    const content = this.record(rel, statKey)?.[1];
    return content ? (content as Digest) : undefined;
  }

  private remember(rel: string, stat: EntryStat, digest: Digest): void {
    this.stats.hashed++;
    this.stats.bytesHashed += stat.size;
    // A new content digest: any checksum recorded for the old key is gone with it.
    this.updated.set(rel, [stat.key, digest, '', '']);
    this.dirty = true;
  }
}

/** A cache with no file: memoizes within one build only. */
export function createMemoryChecksumCache(): ChecksumCache {
  return new ChecksumCache(undefined);
}

/**
 * Loads (or starts) the persistent cache of one context: `dir` is the
 * directory the builder gives (`<storeRoot>/cache/checksums/`), `contextDir`
 * the absolute context path (its identity).
 */
export async function openChecksumCache(options: { dir: string; contextDir: string; signal?: AbortSignal }): Promise<ChecksumCache> {
  await mkdir(options.dir, { recursive: true });
  const file = join(options.dir, `${digestHex(sha256(options.contextDir))}.json`);
  let text: string | undefined;
  try {
    text = await readFile(file, { encoding: 'utf8', signal: options.signal });
  } catch (err) {
    if (options.signal?.aborted) throw err;
    // Missing or unreadable: start empty; the file is only an accelerator.
  }
  return new ChecksumCache(file, text);
}

/**
 * rel → offset of its statKey, for a well-formed v2 file (FORMAT, then
 * WIDTH NUL-terminated fields per entry); undefined for anything else (v1
 * JSON, a torn or foreign file). The fields stay in the one string: 20,000
 * entries would otherwise be 100,000 strings for the GC to carry.
 */
function indexOf(text: string): Map<string, number> | undefined {
  if (!text.startsWith(`${FORMAT}\0`)) return undefined;
  const index = new Map<string, number>();
  let at = FORMAT.length + 1;
  while (at < text.length) {
    const relEnd = text.indexOf('\0', at);
    if (relEnd < 0) return undefined;
    let end = relEnd + 1;
    for (let k = 1; k < WIDTH; k++) {
      end = text.indexOf('\0', end) + 1;
      if (end === 0) return undefined;
    }
    index.set(text.slice(at, relEnd), relEnd + 1);
    at = end;
  }
  return index;
}
