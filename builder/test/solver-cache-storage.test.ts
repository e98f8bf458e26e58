import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { FileCacheStorage, MemoryCacheStorage, digestOf } from './solver-imports.js';
import { runCacheStorageSuite, sampleRecord } from './solver-cache-storage-suite.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-solver-cache-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('solver cache storage: MemoryCacheStorage', () => {
  runCacheStorageSuite(async () => new MemoryCacheStorage());
});

describe('solver cache storage: FileCacheStorage', () => {
  runCacheStorageSuite(async () => new FileCacheStorage(await tempDir()));

  it('stores one JSON file per key at <dir>/records/<hex>.json with the fields the GC reads', async () => {
    const dir = await tempDir();
    const storage = new FileCacheStorage(dir);
    const r = sampleRecord(7);
    await storage.put(r.key, r);
    const file = join(dir, 'records', `${r.key.slice('sha256:'.length)}.json`);
    const onDisk = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(onDisk).to.include.keys('key', 'result', 'createdAt', 'lastUsedAt', 'blobs', 'snapshots', 'explain');
    expect(onDisk.blobs).to.deep.equal(r.blobs);
    expect(onDisk.snapshots).to.deep.equal(r.snapshots);
  });

  it('leaves no temp files behind after writes', async () => {
    const dir = await tempDir();
    const storage = new FileCacheStorage(dir);
    for (const n of [1, 2]) await storage.put(sampleRecord(n).key, sampleRecord(n));
    await storage.setExplainKey('x', sampleRecord(1).key);
    expect((await readdir(join(dir, 'records'))).sort()).to.deep.equal(
      [sampleRecord(1).key, sampleRecord(2).key].map((k) => `${k.slice(7)}.json`).sort(),
    );
    expect((await readdir(join(dir, 'explain'))).every((n) => n.endsWith('.json'))).to.equal(true);
  });

  it('treats a corrupt record file as a miss and skips it when walking', async () => {
    const dir = await tempDir();
    const storage = new FileCacheStorage(dir);
    const key = digestOf('torn');
    await mkdir(join(dir, 'records'), { recursive: true });
    await writeFile(join(dir, 'records', `${key.slice(7)}.json`), '{"key": "sha');
    expect(await storage.get(key)).to.equal(undefined);
    const walked = [];
    for await (const r of storage.walk()) walked.push(r);
    expect(walked).to.deep.equal([]);
  });

  it('rejects a key that is not a digest instead of writing outside its directory', async () => {
    const storage = new FileCacheStorage(await tempDir());
    let error: unknown;
    try {
      await storage.put('../../etc/passwd', sampleRecord(1));
    } catch (err) {
      error = err;
    }
    expect(error).to.have.property('code', 'CACHE_INVALID_KEY');
  });

  it('walks an empty directory that was never written', async () => {
    const storage = new FileCacheStorage(join(await tempDir(), 'never-created'));
    const walked = [];
    for await (const r of storage.walk()) walked.push(r);
    expect(walked).to.deep.equal([]);
  });
});
