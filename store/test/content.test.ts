import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { CanceledError, DigestMismatchError, NotFoundError, sha256, type Digest } from '@tsbuild/core';
import { LocalContentStore, copyBlob, readBlobBytes, readJson, writeJson } from '@tsbuild/store';
import { tempDir } from '../../test/support/fixtures.js';

const run = promisify(execFile);

async function text(stream: Readable): Promise<string> {
  let s = '';
  for await (const c of stream) s += c.toString();
  return s;
}

describe('content: LocalContentStore', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: LocalContentStore;
  beforeEach(() => {
    dir = tempDir('tsbuild-content-');
    store = new LocalContentStore(dir.path);
  });
  afterEach(() => dir.cleanup());

  it('ingests a stream into blobs/sha256/<hex> and reads it back', async () => {
    const data = 'hello content store\n';
    const info = await store.ingest(Readable.from([Buffer.from(data)]));
    expect(info).to.deep.equal({ digest: sha256(data), size: data.length });
    expect(readFileSync(join(dir.path, 'blobs/sha256', info.digest.slice(7)), 'utf8')).to.equal(data);
    expect(await text(await store.reader(info.digest))).to.equal(data);
    expect(await text(await store.reader(info.digest, { start: 6 }))).to.equal(data.slice(6));
    expect(await store.info(info.digest)).to.deep.equal(info);
    expect(readdirSync(join(dir.path, 'ingest'))).to.deep.equal([]);
  });

  it('a digest mismatch throws DigestMismatchError and leaves nothing behind', async () => {
    const wrong = sha256('something else');
    const err = await store.ingest(Readable.from([Buffer.from('abc')]), { digest: wrong }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DigestMismatchError);
    expect(existsSync(store.blobPath(wrong))).to.equal(false);
    expect(existsSync(store.blobPath(sha256('abc')))).to.equal(false);
    expect(readdirSync(join(dir.path, 'ingest'))).to.deep.equal([]);
  });

  it('a size mismatch is rejected too', async () => {
    const err = await store.ingest(Readable.from([Buffer.from('abc')]), { digest: sha256('abc'), size: 4 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DigestMismatchError);
    expect(existsSync(store.blobPath(sha256('abc')))).to.equal(false);
  });

  it('abort removes the temp file and throws CanceledError', async () => {
    const source = new PassThrough();
    source.write(Buffer.alloc(1024, 1));
    const ac = new AbortController();
    const pending = store.ingest(source, {}, { signal: ac.signal }).catch((e: unknown) => e);
    // wait (bounded) until the temp file exists, so the abort really interrupts a write in progress
    for (let i = 0; i < 200 && !(existsSync(join(dir.path, 'ingest')) && readdirSync(join(dir.path, 'ingest')).length === 1); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(readdirSync(join(dir.path, 'ingest'))).to.have.length(1);
    ac.abort();
    expect(await pending).to.be.instanceOf(CanceledError);
    expect(readdirSync(join(dir.path, 'ingest'))).to.deep.equal([]);
    expect([...(await collect(store.walk()))]).to.deep.equal([]);
  });

  it('ingesting an existing blob short-circuits without reading the source', async () => {
    const info = await store.ingest(Readable.from([Buffer.from('same')]));
    let read = false;
    const source = new Readable({ read() { read = true; this.push(null); } });
    expect(await store.ingest(source, { digest: info.digest, size: 4 })).to.deep.equal(info);
    expect(read).to.equal(false);
    // without an expected digest it is re-read, re-verified and still one copy
    expect(await store.ingest(Readable.from([Buffer.from('same')]))).to.deep.equal(info);
  });

  it('concurrent ingests of one blob, in-process and from two child processes, all succeed with one copy', async () => {
    const data = Buffer.alloc(256 * 1024, 7);
    const digest = sha256(data);
    const results = await Promise.all([1, 2, 3].map(() => store.ingest(Readable.from([data]), { size: data.length })));
    expect(results.map((r) => r.digest)).to.deep.equal([digest, digest, digest]);
    const other = sha256(Buffer.alloc(1024 * 1024, 9));
    const script = `
      import { Readable } from 'node:stream';
      import { LocalContentStore } from '@tsbuild/store';
      const s = new LocalContentStore(${JSON.stringify(dir.path)});
      const info = await s.ingest(Readable.from([Buffer.alloc(1024 * 1024, 9)]));
      process.stdout.write(info.digest);`;
    const opts = { cwd: join(import.meta.dirname, '../..') };
    const args = ['--conditions=tsbuild-source', '--import=tsx', '--input-type=module', '-e', script];
    const outs = await Promise.all([run(process.execPath, args, opts), run(process.execPath, args, opts)]);
    expect(outs.map((o) => o.stdout)).to.deep.equal([other, other]);
    expect(readdirSync(join(dir.path, 'blobs/sha256')).sort()).to.deep.equal([digest.slice(7), other.slice(7)].sort());
    expect(readdirSync(join(dir.path, 'ingest'))).to.deep.equal([]);
  });

  it('missing blobs are NotFoundError STORE_BLOB_NOT_FOUND naming the digest', async () => {
    const missing = sha256('missing');
    for (const op of [() => store.info(missing), () => store.reader(missing), () => store.delete(missing)]) {
      const err = await op().catch((e: unknown) => e);
      expect(err).to.be.instanceOf(NotFoundError);
      expect((err as NotFoundError).code).to.equal('STORE_BLOB_NOT_FOUND');
      expect((err as Error).message).to.contain(missing);
    }
  });

  it('walk lists blobs and delete removes them', async () => {
    const a = await store.ingest(Readable.from([Buffer.from('a')]));
    const b = await store.ingest(Readable.from([Buffer.from('bb')]));
    const all = await collect(store.walk());
    expect(all.map((x) => x.digest).sort()).to.deep.equal([a.digest, b.digest].sort());
    await store.delete(a.digest);
    expect((await collect(store.walk())).map((x) => x.digest)).to.deep.equal([b.digest]);
  });
});

describe('content: helpers', () => {
  let dir: ReturnType<typeof tempDir>;
  afterEach(() => dir.cleanup());
  beforeEach(() => (dir = tempDir('tsbuild-content-')));

  it('writeJson writes byte-stable JSON and readJson verifies it', async () => {
    const store = new LocalContentStore(dir.path);
    const value = { b: 1, a: [1, 2], c: { z: 'x' } };
    const desc = await writeJson(store, value, 'application/json');
    expect(desc.digest).to.equal(sha256(JSON.stringify(value)));
    expect(await writeJson(store, value, 'application/json')).to.deep.equal(desc);
    expect(await readJson(store, desc)).to.deep.equal(value);
    const lying = { ...desc, digest: sha256('other') as Digest };
    writeFileSync(store.blobPath(lying.digest), JSON.stringify(value)); // a blob whose bytes do not match its name
    expect(((await readJson(store, lying).catch((e: unknown) => e)) as { code: string }).code).to.equal('STORE_BLOB_CORRUPT');
  });

  it('readBlobBytes refuses blobs over maxBytes; copyBlob copies verified', async () => {
    const store = new LocalContentStore(join(dir.path, 'a'));
    const other = new LocalContentStore(join(dir.path, 'b'));
    const desc = await writeJson(store, { big: 'x'.repeat(1000) }, 'application/json');
    const err = await readBlobBytes(store, desc.digest, { maxBytes: 100 }).catch((e: unknown) => e);
    expect((err as { code: string }).code).to.equal('STORE_BLOB_TOO_LARGE');
    await copyBlob(store, other, desc);
    expect((await readBlobBytes(other, desc.digest)).length).to.equal(desc.size);
  });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
