/**
 * Cache records on disk, one JSON file per key:
 *   <dir>/records/<hex>.json      the CacheRecord (the store's GC reads `blobs`/`snapshots`)
 *   <dir>/explain/<hex>.json      { explainId, key } where hex = sha256(explainId)
 * Every write is temp file + fsync + rename (+ directory fsync), so a crash
 * leaves the old record or the new one, never a torn file. A file that does
 * not parse is treated as a miss: a cache must never fail a build.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, isDigest, sha256, throwIfAborted, InvalidArgumentError } from '@tsbuild/core';
import { writeFileAtomic } from '@tsbuild/store';
import type { CacheRecord, CacheStorage, StorageOptions } from './cache-storage.js';


export class FileCacheStorage implements CacheStorage {
  private readonly recordsDir: string;
  private readonly explainDir: string;

  constructor(readonly dir: string) {
    this.recordsDir = join(dir, 'records');
    this.explainDir = join(dir, 'explain');
  }

  async get(key: string, options: StorageOptions = {}): Promise<CacheRecord | undefined> {
    throwIfAborted(options.signal);
    return readJson<CacheRecord>(this.recordPath(key), (r) => typeof r.key === 'string' && r.result !== undefined);
  }

  async put(key: string, record: CacheRecord, options: StorageOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    await mkdir(this.recordsDir, { recursive: true });
    await writeFileAtomic(this.recordPath(key), JSON.stringify(record, null, 2));
  }

  async delete(key: string, options: StorageOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    await rm(this.recordPath(key), { force: true });
  }

  async *walk(options: StorageOptions = {}): AsyncIterable<CacheRecord> {
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
      const record = await readJson<CacheRecord>(join(this.recordsDir, name), (r) => typeof r.key === 'string');
      if (record) yield record;
    }
  }

  async getExplainKey(explainId: string, options: StorageOptions = {}): Promise<string | undefined> {
    throwIfAborted(options.signal);
    const entry = await readJson<{ explainId: string; key: string }>(this.explainPath(explainId), (e) => e.explainId === explainId);
    return entry?.key;
  }

  async setExplainKey(explainId: string, key: string, options: StorageOptions = {}): Promise<void> {
    throwIfAborted(options.signal);
    await mkdir(this.explainDir, { recursive: true });
    await writeFileAtomic(this.explainPath(explainId), JSON.stringify({ explainId, key }));
  }

  private recordPath(key: string): string {
    if (!isDigest(key)) throw new InvalidArgumentError(`invalid cache key ${JSON.stringify(key)}`, { code: 'CACHE_INVALID_KEY' });
    return join(this.recordsDir, `${digestHex(key)}.json`);
  }

  private explainPath(explainId: string): string {
    return join(this.explainDir, `${digestHex(sha256(explainId))}.json`);
  }
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
