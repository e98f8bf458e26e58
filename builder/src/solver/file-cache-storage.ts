/**
 * Cache records on disk, one JSON file per key:
 *   <dir>/records/<hex>.json      the CacheRecord (its `blobs`/`snapshots` are what gcRoots reports)
 *   <dir>/explain/<hex>.json      { explainId, key } where hex = sha256(explainId)
 *   <dir>/content/<hex>.json      a big content map (path → checksum), hex = its contentDigestOf
 *   <dir>/usage.log               hits: `<key hex> <ms> <uses>` lines (usage-log.ts), so a hit never rewrites its record
 * Every write is temp file + rename, so a concurrent reader sees the old
 * record or the new one, never a torn file. Not flushed (`durable: false`):
 * a record only names blobs and snapshots that were made durable before it
 * was written, so what a machine crash can do to a record — lose it, or
 * leave an empty file — is a miss, and a file that does not parse is
 * treated as one: a cache must never fail a build. (The flushes were a
 * third of a build's fsyncs.)
 *
 * A record's content map is only needed to explain a later miss file by
 * file, but a COPY of a 20,000-file context makes it 1.5 MB of JSON that
 * every hit would read and every hit's touch (lastUsedAt) would write back.
 * So a map of more than INLINE_CONTENT paths is written once to content/
 * (content-addressed: records and rebuilds share it) and the record holds
 * `explain.contentRef` instead; `get` gives the record back with
 * `explain.content` read from content/ the first time something looks at it
 * (only an explanation does), and `put` of such a record writes the ref
 * again without reading the map. Content maps no last build names are
 * removed by `pruneContentMaps`, records (with their explain entries) by the
 * build-cache GC (cache-gc/); a map that has gone missing reads as an empty
 * map (a miss then lists every current file as added).
 *
 * It is the store's GcRootProvider for the build cache: the store's prune and
 * du ask it (`gcRoots`, `diskUsage`) and never read these files themselves.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, isDigest, sha256, throwIfAborted, InvalidArgumentError, type Digest } from '@tsbuild/core';
import { writeFileAtomic, type GcRootProvider, type GcRoots } from '@tsbuild/store';
import type { CacheRecord, CacheStorage, StorageOptions } from './cache-storage.js';
import type { Result } from './types.js';
import { UsageLog, type KeyUsage } from './usage-log.js';
import { contentDigestOf, setStoredContentDigest, storedContentDigest, type KeyComponents } from './cache-key.js';

/** Content maps up to this many paths stay inside the record. */
export const INLINE_CONTENT = 64;

/** A record's explain as written: the content map inline, or a reference to content/. */
type StoredComponents = Omit<KeyComponents, 'content'> & { content?: Record<string, string>; contentRef?: Digest };

export class FileCacheStorage<R extends Result = Result> implements CacheStorage<R>, GcRootProvider {
  private readonly recordsDir: string;
  private readonly explainDir: string;
  private readonly contentDir: string;
  private readonly usageLog: UsageLog;

  constructor(readonly dir: string) {
    this.recordsDir = join(dir, 'records');
    this.explainDir = join(dir, 'explain');
    this.contentDir = join(dir, 'content');
    this.usageLog = new UsageLog(join(dir, 'usage.log'), (path, text) => writeFileAtomic(path, text, { durable: false }));
  }

  async get(key: string, options: StorageOptions = {}): Promise<CacheRecord<R> | undefined> {
    throwIfAborted(options.signal);
    const record = await readJson<CacheRecord<R>>(this.recordPath(key), (r) => typeof r.key === 'string' && r.result !== undefined);
    return record && this.withLazyContent(record);
  }

  async put(key: string, record: CacheRecord<R>, options: StorageOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    await mkdir(this.recordsDir, { recursive: true });
    const explain = record.explain ? await this.storedExplain(record.explain) : record.explain;
    await writeFileAtomic(this.recordPath(key), JSON.stringify({ ...record, explain }, null, 2), { durable: false });
  }

  async touch(key: string, options: StorageOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    if (!isDigest(key)) throw new InvalidArgumentError(`invalid cache key ${JSON.stringify(key)}`, { code: 'CACHE_INVALID_KEY' });
    await this.usageLog.record(digestHex(key));
  }

  async delete(key: string, options: StorageOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    await rm(this.recordPath(key), { force: true });
  }

  /** The hits recorded since each record was written, by key (`sha256:<hex>`). */
  async usage(): Promise<Map<string, KeyUsage>> {
    const byHex = await this.usageLog.read();
    return new Map([...byHex].map(([hex, u]) => [`sha256:${hex}`, u]));
  }

  /** Whether a record file exists under `key` (a GC may have removed one just read). */
  async has(key: string): Promise<boolean> {
    return (await stat(this.recordPath(key)).catch(() => undefined)) !== undefined;
  }

  /** The bytes of a record's own file (0 when it is gone). */
  async recordBytes(key: string): Promise<number> {
    return (await stat(this.recordPath(key)).catch(() => undefined))?.size ?? 0;
  }

  /**
   * After records were deleted: explain entries naming a key that has no
   * record any more go (a later miss of that step then says "no previous
   * build" rather than "record gone"), and the usage log keeps only keys that
   * still have a record.
   */
  async forgetDeleted(options: StorageOptions = {}): Promise<void> {
    const live = new Set((await readdir(this.recordsDir).catch(() => [] as string[])).filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -5)));
    for (const name of await readdir(this.explainDir).catch(() => [] as string[])) {
      throwIfAborted(options.signal);
      if (name.startsWith('.') || !name.endsWith('.json')) continue;
      const entry = await readJson<{ key: string }>(join(this.explainDir, name), (e) => typeof e.key === 'string');
      if (entry && isDigest(entry.key) && !live.has(digestHex(entry.key as Digest))) await rm(join(this.explainDir, name), { force: true });
    }
    await this.usageLog.compact((hex) => live.has(hex));
  }

  async *walk(options: StorageOptions = {}): AsyncIterable<CacheRecord<R>> {
    let names: string[];
    try {
      names = await readdir(this.recordsDir);
    } catch (err) {
      if (isEnoent(err)) return;
      throw err;
    }
    for (const name of names.sort()) {
      throwIfAborted(options.signal);
      if (name.startsWith('.') || !name.endsWith('.json')) continue; // temp files of writeFileAtomic
      const record = await readJson<CacheRecord<R>>(join(this.recordsDir, name), (r) => typeof r.key === 'string');
      if (record) yield this.withLazyContent(record);
    }
  }

  /**
   * Every blob and snapshot a record names. A records directory that cannot
   * be read (other than missing) throws: a prune must not go on without it.
   */
  async gcRoots(options: StorageOptions = {}): Promise<GcRoots> {
    const blobs = new Set<Digest>();
    const snapshots = new Set<string>();
    for await (const record of this.walk(options)) {
      for (const b of record.blobs ?? []) if (typeof b === 'string' && isDigest(b)) blobs.add(b);
      for (const s of record.snapshots ?? []) if (typeof s === 'string') snapshots.add(s);
    }
    return { blobs: [...blobs], snapshots: [...snapshots] };
  }

  /** The record files (`count`) and the bytes of everything this storage wrote: records, explain entries, content maps, the usage log. */
  async diskUsage(): Promise<{ count: number; bytes: number }> {
    let count = 0;
    let bytes = (await stat(join(this.dir, 'usage.log')).catch(() => undefined))?.size ?? 0;
    for (const dir of [this.recordsDir, this.explainDir, this.contentDir]) {
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const st = await stat(join(dir, name)).catch(() => undefined);
        if (!st?.isFile()) continue;
        bytes += st.size;
        if (dir === this.recordsDir && name.endsWith('.json') && !name.startsWith('.')) count++;
      }
    }
    return { count, bytes };
  }

  async getExplainKey(explainId: string, options: StorageOptions = {}): Promise<string | undefined> {
    throwIfAborted(options.signal);
    const entry = await readJson<{ explainId: string; key: string }>(this.explainPath(explainId), (e) => e.explainId === explainId);
    return entry?.key;
  }

  async setExplainKey(explainId: string, key: string, options: StorageOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    const path = this.explainPath(explainId);
    // Every cache hit sets it; most of the time it already says so (a read is cheaper than a durable write).
    if ((await readJson<{ explainId: string; key: string }>(path, (e) => e.explainId === explainId))?.key === key) return;
    await mkdir(this.explainDir, { recursive: true });
    await writeFileAtomic(path, JSON.stringify({ explainId, key }), { durable: false });
  }

  /** The explain part as written: a big content map goes to content/ (once) and is named by its digest. */
  private async storedExplain(explain: KeyComponents): Promise<StoredComponents> {
    let ref = storedContentDigest(explain);
    if (ref === undefined) {
      if (Object.keys(explain.content ?? {}).length <= INLINE_CONTENT) return explain;
      ref = contentDigestOf(explain.content);
      const path = this.contentPath(ref);
      if (!existsSync(path)) {
        await mkdir(this.contentDir, { recursive: true });
        await writeFileAtomic(path, JSON.stringify(explain.content), { durable: false });
      }
    }
    // Every field but `content`, which is not read (it may be a lazy getter).
    const out: Record<string, unknown> = {};
    for (const field of Object.keys(explain)) if (field !== 'content') out[field] = explain[field as keyof KeyComponents];
    out.contentRef = ref;
    return out as StoredComponents;
  }

  /** A record as read: `explain.contentRef` becomes an `explain.content` read from content/ on first use. */
  private withLazyContent(record: CacheRecord<R>): CacheRecord<R> {
    const explain = record.explain as StoredComponents | undefined;
    if (!explain || typeof explain.contentRef !== 'string' || !isDigest(explain.contentRef)) return record;
    const ref = explain.contentRef;
    delete explain.contentRef;
    const path = this.contentPath(ref);
    let content: Record<string, string> | undefined;
    Object.defineProperty(explain, 'content', {
      enumerable: true,
      configurable: true,
      get: () => (content ??= readContent(path)),
      set: (value: Record<string, string>) => {
        content = value;
        setStoredContentDigest(explain as KeyComponents, undefined);
      },
    });
    setStoredContentDigest(explain as KeyComponents, ref);
    return record;
  }

  private recordPath(key: string): string {
    if (!isDigest(key)) throw new InvalidArgumentError(`invalid cache key ${JSON.stringify(key)}`, { code: 'CACHE_INVALID_KEY' });
    return join(this.recordsDir, `${digestHex(key)}.json`);
  }

  private explainPath(explainId: string): string {
    return join(this.explainDir, `${digestHex(sha256(explainId))}.json`);
  }

  private contentPath(ref: Digest): string {
    return join(this.contentDir, `${digestHex(ref)}.json`);
  }
}

/** The build cache of the store at `storeRoot`: `<storeRoot>/cache`. */
export function openBuildCache<R extends Result = Result>(storeRoot: string): FileCacheStorage<R> {
  return new FileCacheStorage<R>(join(storeRoot, 'cache'));
}

/**
 * Removes the content maps (`<cacheDir>/content/`) no miss can need any
 * more: a map is only read to explain a miss against the *last* build of a
 * step, i.e. the record an explain entry names. Every other map older than
 * `graceMs` (a build may be writing its record right now) is deleted. Without
 * this, each edit of a big context would leave a map of ~1.8 MB (20,000
 * paths) behind for good. `tsbuild prune` calls it.
 */
export async function pruneContentMaps(cacheDir: string, options: { graceMs?: number } = {}): Promise<{ removed: number; bytes: number }> {
  const cutoff = Date.now() - (options.graceMs ?? 60_000);
  const keep = new Set<string>();
  for (const name of await readdir(join(cacheDir, 'explain')).catch(() => [] as string[])) {
    if (name.startsWith('.') || !name.endsWith('.json')) continue;
    const entry = await readJson<{ key: string }>(join(cacheDir, 'explain', name), (e) => typeof e.key === 'string');
    if (!entry || !isDigest(entry.key)) continue;
    const record = await readJson<{ explain?: { contentRef?: unknown } }>(join(cacheDir, 'records', `${digestHex(entry.key as Digest)}.json`), () => true);
    const ref = record?.explain?.contentRef;
    if (typeof ref === 'string' && isDigest(ref)) keep.add(`${digestHex(ref as Digest)}.json`);
  }
  let removed = 0;
  let bytes = 0;
  const dir = join(cacheDir, 'content');
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (keep.has(name)) continue;
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (!st || st.mtimeMs >= cutoff) continue;
    await rm(join(dir, name), { force: true });
    removed++;
    bytes += st.size;
  }
  return { removed, bytes };
}

/**
 * A content map from content/, synchronously: it is read from a property
 * getter, only to explain a miss (1.5 MB for 20,000 paths, ~15 ms).
 */
function readContent(path: string): Record<string, string> {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, string>;
  } catch {
    // missing or torn: explained as an empty map
  }
  return {};
}

async function readJson<T>(path: string, valid: (value: T) => boolean): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isEnoent(err)) return undefined;
    throw err;
  }
  try {
    const value = JSON.parse(text) as T;
    return value && typeof value === 'object' && valid(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isEnoent(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
