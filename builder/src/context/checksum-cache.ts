/**
 * ChecksumCache: file content hashes keyed by stat, so checksumming an
 * unchanged context costs the lstat calls and no reads.
 *
 * Key: rel path + size + mtime (ns) + ctime (ns) + inode + device + mode.
 * BuildKit's contenthash keys on stat without ctime, so an edit that keeps
 * the size and restores the mtime (`touch -r`, some sync tools) on the same
 * inode goes unseen there. We add ctime, which user space cannot set: such an
 * edit is seen too; only changing the system clock (or a raw block device
 * edit) could fool the key. The price: chmod/chown/link also rehash a file.
 *
 * Lifecycle: `openChecksumCache({ dir, contextDir })` loads
 * `<dir>/<sha256(contextDir)>.json` once (a missing or corrupt file is an
 * empty cache); `contentDigest()` is called any number of times, concurrently
 * (the same file in flight is hashed once — several COPYs of one build share
 * the work); `save()` writes the file atomically (temp + fsync + rename) when
 * something changed. `createMemoryChecksumCache()` is the same without a file.
 * Entries of deleted files are not pruned (the file is an accelerator; store
 * GC may delete it at any time).
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sha256, digestHex, throwIfAborted, type Digest } from '@tsbuild/core';
import { hashFile } from './hash-file.js';

export interface ChecksumCacheStats {
  /** Lookups answered from the cache (no read). */
  hits: number;
  /** Files whose content was read and hashed. */
  hashed: number;
  bytesHashed: number;
}

const FORMAT_VERSION = 1;

export class ChecksumCache {
  readonly stats: ChecksumCacheStats = { hits: 0, hashed: 0, bytesHashed: 0 };
  private readonly entries: Map<string, [statKey: string, digest: Digest]>;
  private readonly inFlight = new Map<string, { statKey: string; promise: Promise<Digest> }>();
  private dirty = false;

  /** `file`: where save() writes; undefined for a memory-only cache. */
  constructor(
    private readonly file: string | undefined,
    entries: Record<string, [string, Digest]> = {},
  ) {
    this.entries = new Map(Object.entries(entries));
  }

  /** The content digest of the regular file `abs` (context path `rel`) whose lstat is `stat`. */
  contentDigest(abs: string, rel: string, stat: BigIntStats, options: { signal?: AbortSignal | undefined } = {}): Promise<Digest> {
    const statKey = statKeyOf(stat);
    const known = this.entries.get(rel);
    if (known && known[0] === statKey) {
      this.stats.hits++;
      return Promise.resolve(known[1]);
    }
    const flying = this.inFlight.get(rel);
    if (flying && flying.statKey === statKey) {
      this.stats.hits++;
      return flying.promise;
    }
    const promise = hashFile(abs, { ...options, size: stat.size }).then(
      (digest) => {
        this.stats.hashed++;
        this.stats.bytesHashed += Number(stat.size);
        this.entries.set(rel, [statKey, digest]);
        this.dirty = true;
        return digest;
      },
    ).finally(() => {
      if (this.inFlight.get(rel)?.promise === promise) this.inFlight.delete(rel);
    });
    this.inFlight.set(rel, { statKey, promise });
    return promise;
  }

  /** Persists the cache if it changed; no-op for a memory cache. Atomic: readers see the old or the new file. */
  async save(options: { signal?: AbortSignal | undefined } = {}): Promise<void> {
    throwIfAborted(options.signal);
    if (!this.file || !this.dirty) return;
    const body = JSON.stringify({ version: FORMAT_VERSION, entries: Object.fromEntries(this.entries) });
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
}

/** Stat fields that change whenever a file's content is rewritten. */
export function statKeyOf(stat: BigIntStats): string {
  return `${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}:${stat.ino}:${stat.dev}:${stat.mode}`;
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
  let entries: Record<string, [string, Digest]> = {};
  try {
    const parsed = JSON.parse(await readFile(file, { encoding: 'utf8', signal: options.signal })) as {
      version?: number;
      entries?: Record<string, [string, Digest]>;
    };
    if (parsed.version === FORMAT_VERSION && parsed.entries && typeof parsed.entries === 'object') entries = parsed.entries;
  } catch (err) {
    if (options.signal?.aborted) throw err;
    // Missing or unreadable: start empty; the file is only an accelerator.
  }
  return new ChecksumCache(file, entries);
}
