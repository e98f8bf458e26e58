/**
 * The contract every CacheStorage backend passes (the containerd habit: one
 * suite, every backend). Call inside a `describe` with a factory that returns
 * a fresh, empty storage.
 */
import { expect } from 'chai';
import { CACHE_KEY_VERSION, digestOf, type CacheRecord, type CacheStorage } from './solver-imports.js';

export function sampleRecord(n: number, explainId = `Dockerfile#default#0#${n}`): CacheRecord {
  const key = digestOf({ n });
  return {
    key,
    result: { value: n, snapshot: `chain-${n}` },
    outputKey: key,
    createdAt: '2026-01-01T00:00:00.000Z',
    lastUsedAt: '2026-01-02T00:00:00.000Z',
    blobs: [`sha256:${'a'.repeat(63)}${n}`],
    snapshots: [`snap-${n}`],
    explain: { v: CACHE_KEY_VERSION, name: `step ${n}`, explainId, vertex: digestOf({ vertex: n }), definition: { n }, content: {}, inputs: [] },
  };
}

export function runCacheStorageSuite(factory: () => Promise<CacheStorage>): void {
  let storage: CacheStorage;
  beforeEach(async () => {
    storage = await factory();
  });

  it('returns undefined for a key never put', async () => {
    expect(await storage.get(digestOf('missing'))).to.equal(undefined);
  });

  it('round-trips a record with every field', async () => {
    const r = sampleRecord(1);
    await storage.put(r.key, r);
    expect(await storage.get(r.key)).to.deep.equal(r);
  });

  it('replaces the record under an existing key', async () => {
    const r = sampleRecord(1);
    await storage.put(r.key, r);
    await storage.put(r.key, { ...r, lastUsedAt: '2026-02-01T00:00:00.000Z' });
    expect((await storage.get(r.key))?.lastUsedAt).to.equal('2026-02-01T00:00:00.000Z');
  });

  it('does not let a caller mutate a stored record through the object it put or got', async () => {
    const r = sampleRecord(1);
    await storage.put(r.key, r);
    r.blobs.push('mutated');
    const got = await storage.get(r.key);
    got!.snapshots.push('mutated');
    expect((await storage.get(r.key))?.blobs).to.deep.equal(sampleRecord(1).blobs);
    expect((await storage.get(r.key))?.snapshots).to.deep.equal(sampleRecord(1).snapshots);
  });

  it('deletes a record, and deleting a missing key is not an error', async () => {
    const r = sampleRecord(1);
    await storage.put(r.key, r);
    await storage.delete(r.key);
    expect(await storage.get(r.key)).to.equal(undefined);
    await storage.delete(r.key);
  });

  it('walks every record', async () => {
    for (const n of [1, 2, 3]) await storage.put(sampleRecord(n).key, sampleRecord(n));
    await storage.delete(sampleRecord(2).key);
    const seen: number[] = [];
    for await (const r of storage.walk()) seen.push(r.result.value as number);
    expect(seen.sort()).to.deep.equal([1, 3]);
  });

  it('keeps an explain index from explain id to the last key', async () => {
    expect(await storage.getExplainKey('Dockerfile#default#0#1')).to.equal(undefined);
    await storage.setExplainKey('Dockerfile#default#0#1', sampleRecord(1).key);
    await storage.setExplainKey('Dockerfile#default#0#1', sampleRecord(2).key);
    await storage.setExplainKey('other', sampleRecord(3).key);
    expect(await storage.getExplainKey('Dockerfile#default#0#1')).to.equal(sampleRecord(2).key);
    expect(await storage.getExplainKey('other')).to.equal(sampleRecord(3).key);
  });
}
