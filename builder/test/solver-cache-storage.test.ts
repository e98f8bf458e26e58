import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { FileCacheStorage, INLINE_CONTENT, pruneContentMaps, MemoryCacheStorage, Solver, contentDigestOf, digestOf, type MissReason, type SolveEvent } from './solver-imports.js';
import { Counters, makeGraph } from './solver-fixtures.js';
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

  it('reports the blobs and snapshots its records name as GC roots, skipping a torn record, and its files as disk usage', async () => {
    const dir = await tempDir();
    const storage = new FileCacheStorage(dir);
    for (const n of [1, 2]) await storage.put(sampleRecord(n).key, sampleRecord(n));
    await storage.put(sampleRecord(3).key, { ...sampleRecord(3), blobs: [sampleRecord(1).blobs[0]!], snapshots: [] });
    await writeFile(join(dir, 'records', `${digestOf('torn').slice(7)}.json`), '{"key": "sha');
    const roots = await storage.gcRoots();
    expect([...roots.blobs].sort()).to.deep.equal([...sampleRecord(1).blobs, ...sampleRecord(2).blobs].sort());
    expect([...roots.snapshots].sort()).to.deep.equal(['snap-1', 'snap-2']);
    const usage = await storage.diskUsage();
    expect(usage.count).to.equal(4);
    let bytes = 0;
    for (const name of await readdir(join(dir, 'records'))) bytes += (await readFile(join(dir, 'records', name))).length;
    expect(usage.bytes).to.equal(bytes);
    expect(await new FileCacheStorage(join(dir, 'never-created')).gcRoots()).to.deep.equal({ blobs: [], snapshots: [] });
  });

  it('fails to report GC roots when its records directory cannot be read (a prune must not go on without them)', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'records'), 'not a directory');
    const err = await new FileCacheStorage(dir).gcRoots().catch((e: unknown) => e);
    expect(err).to.have.property('code', 'ENOTDIR');
  });

  it('walks an empty directory that was never written', async () => {
    const storage = new FileCacheStorage(join(await tempDir(), 'never-created'));
    const walked = [];
    for await (const r of storage.walk()) walked.push(r);
    expect(walked).to.deep.equal([]);
  });
});

describe('solver cache storage: FileCacheStorage content maps', () => {
  const bigContent = (n: number, changed?: number): Record<string, string> =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`files/f${String(i).padStart(5, '0')}`, digestOf({ i, v: i === changed ? 2 : 1 })]));
  const bigRecord = (content: Record<string, string>) => {
    const r = sampleRecord(5);
    r.explain.content = content;
    return r;
  };

  it('pruneContentMaps keeps the maps of the builds explain entries name and removes older ones past the grace', async () => {
    const dir = await tempDir();
    const storage = new FileCacheStorage(dir);
    const oldMap = bigContent(INLINE_CONTENT + 1);
    const newMap = { ...oldMap, 'f0': digestOf('edited') };
    const before = { ...bigRecord(oldMap), key: digestOf('build 1') };
    const after = { ...bigRecord(newMap), key: digestOf('build 2') };
    await storage.put(before.key, before);
    await storage.setExplainKey('Dockerfile#default#0#2', before.key);
    await storage.put(after.key, after);
    await storage.setExplainKey('Dockerfile#default#0#2', after.key);
    const file = (m: Record<string, string>) => `${contentDigestOf(m).slice(7)}.json`;
    expect((await readdir(join(dir, 'content'))).sort()).to.deep.equal([file(oldMap), file(newMap)].sort());
    // Within the grace period nothing goes (a build may be between writing its map and its explain entry).
    expect(await pruneContentMaps(dir)).to.deep.equal({ removed: 0, bytes: 0 });
    const { removed, bytes } = await pruneContentMaps(dir, { graceMs: -1000 });
    expect(removed).to.equal(1);
    expect(bytes).to.be.greaterThan(0);
    expect(await readdir(join(dir, 'content'))).to.deep.equal([file(newMap)]);
    // The kept map still explains the next miss.
    expect((await storage.get(after.key))!.explain!.content).to.deep.equal(newMap);
  });

  it('keeps a big content map out of the record, once in content/, and gives it back on get', async () => {
    const dir = await tempDir();
    const storage = new FileCacheStorage(dir);
    const content = bigContent(INLINE_CONTENT + 1);
    const r = bigRecord(content);
    await storage.put(r.key, r);
    await storage.put(digestOf('alias'), { ...r, key: digestOf('alias') });
    const onDisk = JSON.parse(await readFile(join(dir, 'records', `${r.key.slice(7)}.json`), 'utf8')) as { explain: Record<string, unknown> };
    expect(onDisk.explain).to.not.have.property('content');
    expect(onDisk.explain.contentRef).to.equal(contentDigestOf(content));
    expect(await readdir(join(dir, 'content'))).to.deep.equal([`${contentDigestOf(content).slice(7)}.json`]);
    expect(await storage.get(r.key)).to.deep.equal(r);
  });

  it('keeps a small content map inline', async () => {
    const dir = await tempDir();
    const storage = new FileCacheStorage(dir);
    const r = bigRecord(bigContent(INLINE_CONTENT));
    await storage.put(r.key, r);
    const onDisk = JSON.parse(await readFile(join(dir, 'records', `${r.key.slice(7)}.json`), 'utf8')) as { explain: Record<string, unknown> };
    expect(onDisk.explain.content).to.deep.equal(r.explain.content);
    expect(existsSync(join(dir, 'content'))).to.equal(false);
  });

  it('touching a record it read (a cache hit) neither reads nor rewrites its content map', async () => {
    const dir = await tempDir();
    const storage = new FileCacheStorage(dir);
    const r = bigRecord(bigContent(500));
    await storage.put(r.key, r);
    const [file] = await readdir(join(dir, 'content'));
    const got = (await storage.get(r.key))!;
    await writeFile(join(dir, 'content', file!), 'not json: reading it would show');
    await storage.put(got.key, { ...got, lastUsedAt: '2026-03-01T00:00:00.000Z' });
    const again = (await storage.get(r.key))!;
    expect(again.lastUsedAt).to.equal('2026-03-01T00:00:00.000Z');
    expect(JSON.parse(await readFile(join(dir, 'records', `${r.key.slice(7)}.json`), 'utf8')).explain.contentRef).to.equal(contentDigestOf(r.explain.content));
    expect(again.explain.content, 'a torn content file reads as an empty map').to.deep.equal({});
  });

  it('explains a miss of a 20,000-file COPY file by file, and one whose files did not change without reading the old map', async () => {
    const dir = await tempDir();
    const counters = new Counters();
    const g = makeGraph(counters);
    const step = (definition: Record<string, unknown>, content: Record<string, string>) =>
      g.vertex({ name: 'COPY files /files', explainId: 'Dockerfile#default#0#2', definition, content, exec: async () => 1 });
    const explained = async (v: ReturnType<typeof step>) => {
      const events: SolveEvent[] = [];
      await new Solver({ cache: new FileCacheStorage(dir) }).solve(v, { onEvent: (e) => events.push(e) });
      return events.flatMap((e) => (e.type === 'vertex.explain' ? e.reasons : []));
    };
    await explained(step({ op: 'copy' }, bigContent(20_000)));
    expect(await explained(step({ op: 'copy' }, bigContent(20_000))), 'a hit').to.deep.equal([]);
    const changed: MissReason[] = await explained(step({ op: 'copy' }, bigContent(20_000, 1234)));
    expect(changed).to.deep.equal([
      { kind: 'content', path: 'files/f01234', change: 'changed', old: digestOf({ i: 1234, v: 1 }), new: digestOf({ i: 1234, v: 2 }) },
    ]);
    for (const f of await readdir(join(dir, 'content'))) await writeFile(join(dir, 'content', f), 'unreadable');
    expect(await explained(step({ op: 'copy', chmod: '644' }, bigContent(20_000, 1234)))).to.deep.equal([
      { kind: 'definition', field: 'chmod', old: undefined, new: '644' },
    ]);
    expect(counters.totalExecs).to.equal(3);
  });
});

describe('solver cache storage: hits go to usage.log, not into the record', () => {
  it('touch appends one line per hit, leaves the record file alone, and usage() sums them', async () => {
    const dir = await tempDir();
    const storage = new FileCacheStorage(dir);
    const r = sampleRecord(3);
    await storage.put(r.key, r);
    const recordFile = join(dir, 'records', `${r.key.slice('sha256:'.length)}.json`);
    const before = await readFile(recordFile, 'utf8');
    await Promise.all(Array.from({ length: 50 }, () => storage.touch(r.key)));
    expect(await readFile(recordFile, 'utf8')).to.equal(before);
    const lines = (await readFile(join(dir, 'usage.log'), 'utf8')).trimEnd().split('\n');
    expect(lines).to.have.length(50);
    const usage = (await storage.usage()).get(r.key)!;
    expect(usage.uses).to.equal(50);
    expect(Date.now() - usage.lastUsedMs).to.be.lessThan(60_000);
  });

  it('a torn last line (a crash mid-append) is skipped, not an error', async () => {
    const dir = await tempDir();
    const storage = new FileCacheStorage(dir);
    const r = sampleRecord(4);
    await storage.put(r.key, r);
    await storage.touch(r.key);
    await writeFile(join(dir, 'usage.log'), `${r.key.slice(7)} 17`, { flag: 'a' });
    expect((await storage.usage()).get(r.key)?.uses).to.equal(1);
    await storage.touch(r.key); // the next append starts after the torn bytes: its own line is torn with them, later ones count
    await storage.touch(r.key);
    expect((await storage.usage()).get(r.key)?.uses).to.equal(2);
  });

  it('forgetDeleted drops the explain entries and usage lines of deleted records, keeping the others', async () => {
    const dir = await tempDir();
    const storage = new FileCacheStorage(dir);
    const gone = sampleRecord(5);
    const kept = sampleRecord(6);
    for (const r of [gone, kept]) {
      await storage.put(r.key, r);
      await storage.setExplainKey(r.explain.explainId!, r.key);
      await storage.touch(r.key);
      await storage.touch(r.key);
    }
    await storage.delete(gone.key);
    await storage.forgetDeleted();
    expect(await storage.getExplainKey(gone.explain.explainId!)).to.equal(undefined);
    expect(await storage.getExplainKey(kept.explain.explainId!)).to.equal(kept.key);
    const usage = await storage.usage();
    expect([...usage.keys()]).to.deep.equal([kept.key]);
    expect(usage.get(kept.key)?.uses).to.equal(2);
    expect((await readFile(join(dir, 'usage.log'), 'utf8')).trimEnd().split('\n')).to.have.length(1);
  });
});
