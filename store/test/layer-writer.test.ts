import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { MediaType, isCanceled } from '@tsbuild/core';
import { LocalContentStore } from '../src/content/local-content-store.js';
import { writeLayer } from '../src/layer/layer-writer.js';
import { tempDir } from '../../test/support/fixtures.js';
import { semiCompressible, sha256Of, tarBytes, tarStream } from './layer-fixtures.js';

describe('layer-writer: writeLayer', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: LocalContentStore;
  let src: string;
  before(() => {
    tmp = tempDir();
    store = new LocalContentStore(join(tmp.path, 'store'));
    src = join(tmp.path, 'src');
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc/hello'), 'hello\n');
    writeFileSync(join(src, 'big'), semiCompressible(3 * 1024 * 1024, 7));
  });
  after(() => tmp.cleanup());

  it('gzip (default): one pass gives the blob descriptor and the diffID of the tar', async () => {
    const expectedTar = tarBytes(src);
    const info = await writeLayer(tarStream(src), store);
    expect(info.descriptor.mediaType).to.equal(MediaType.OciLayerGzip);
    expect(info.diffID).to.equal(sha256Of(expectedTar));
    const blob = readFileSync(store.blobPath(info.descriptor.digest));
    expect(sha256Of(blob)).to.equal(info.descriptor.digest);
    expect(blob.length).to.equal(info.descriptor.size);
    expect(blob.length).to.be.lessThan(expectedTar.length);
    const unzipped = execFileSync('gzip', ['-dc'], { input: blob, maxBuffer: 64 << 20 });
    expect(unzipped.equals(expectedTar)).to.equal(true);
  });

  it('zstd with the docker flavor', async () => {
    const expectedTar = tarBytes(src);
    const info = await writeLayer(tarStream(src), store, { compression: 'zstd', flavor: 'docker' });
    expect(info.descriptor.mediaType).to.equal(MediaType.DockerLayerZstd);
    expect(info.diffID).to.equal(sha256Of(expectedTar));
    const out = execFileSync('zstd', ['-dc'], { input: readFileSync(store.blobPath(info.descriptor.digest)), maxBuffer: 64 << 20 });
    expect(out.equals(expectedTar)).to.equal(true);
  });

  it("'none': the blob is the tar, so its digest is the diffID", async () => {
    const info = await writeLayer(tarStream(src), store, { compression: 'none' });
    expect(info.descriptor.mediaType).to.equal(MediaType.OciLayer);
    expect(info.descriptor.digest).to.equal(info.diffID);
  });

  it('the same tar gives the same blob digest (reproducible layers)', async () => {
    const a = await writeLayer(tarStream(src), store, { compression: 'gzip' });
    const b = await writeLayer(Readable.from([tarBytes(src)]), store, { compression: 'gzip', compressor: { threads: 1 } });
    expect(a.descriptor.digest).to.equal(b.descriptor.digest);
  });

  it('abort mid-stream: CanceledError, no blob committed, no ingest leftovers', async () => {
    const fresh = new LocalContentStore(join(tmp.path, 'abort-store'));
    const ac = new AbortController();
    const source = Readable.from((async function* () {
      for (let i = 0; i < 100; i++) {
        if (i === 5) ac.abort();
        yield semiCompressible(1 << 20, i + 100);
        await new Promise((r) => setTimeout(r, 5));
      }
    })());
    const err = await writeLayer(source, fresh, { signal: ac.signal }).then(() => undefined, (e: unknown) => e);
    expect(isCanceled(err), String(err)).to.equal(true);
    expect(source.destroyed).to.equal(true);
    const blobs = join(fresh.root, 'blobs/sha256');
    expect(existsSync(blobs) ? readdirSync(blobs) : []).to.deep.equal([]);
    const ingest = join(fresh.root, 'ingest');
    await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(ingest) ? readdirSync(ingest) : []).to.deep.equal([]);
  });

  it('a failing source rejects with its own error', async () => {
    const source = Readable.from((async function* () {
      yield Buffer.from('partial');
      throw new Error('disk on fire');
    })());
    const err = await writeLayer(source, store).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).to.contain('disk on fire');
  });
});
