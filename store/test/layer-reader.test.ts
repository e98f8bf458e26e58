import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer as collect } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { compress as zstdCompress } from 'zstd-napi';
import { MediaType, type Descriptor } from '@tsbuild/core';
import { LocalContentStore } from '../src/content/local-content-store.js';
import { writeLayer } from '../src/layer/layer-writer.js';
import { openLayer, sniffCompression } from '../src/layer/layer-reader.js';
import { tempDir } from '../../test/support/fixtures.js';
import { semiCompressible, sha256Of, tarBytes } from './layer-fixtures.js';

describe('layer-reader: openLayer', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: LocalContentStore;
  let tar: Buffer;
  before(() => {
    tmp = tempDir();
    store = new LocalContentStore(join(tmp.path, 'store'));
    const src = join(tmp.path, 'src');
    mkdirSync(join(src, 'd'), { recursive: true });
    writeFileSync(join(src, 'd/f'), semiCompressible(2_500_000, 3));
    tar = tarBytes(src);
  });
  after(() => tmp.cleanup());

  async function put(bytes: Buffer, mediaType: string): Promise<Descriptor> {
    const info = await store.ingest(Readable.from([bytes]));
    return { mediaType, digest: info.digest, size: info.size };
  }

  for (const compression of ['gzip', 'zstd', 'none'] as const) {
    it(`${compression}: round-trips writeLayer, verifying the diffID`, async () => {
      const info = await writeLayer(Readable.from([tar]), store, { compression });
      const out = await collect(await openLayer(store, info.descriptor, { verifyDiffID: info.diffID }));
      expect(out.equals(tar)).to.equal(true);
    });
  }

  it('sniffs gzip and zstd magic when the media type says uncompressed', async () => {
    for (const blob of [gzipSync(tar), zstdCompress(tar)]) {
      const desc = await put(blob, MediaType.OciLayer);
      const out = await collect(await openLayer(store, desc, { verifyDiffID: sha256Of(tar) }));
      expect(out.equals(tar)).to.equal(true);
    }
    expect(sniffCompression(Buffer.from([0x1f, 0x8b, 8]))).to.equal('gzip');
    expect(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).to.equal('zstd');
    expect(sniffCompression(Buffer.from('ustar'))).to.equal('none');
    expect(sniffCompression(Buffer.alloc(0))).to.equal('none');
  });

  it('a tiny uncompressed blob (shorter than the magic) reads back', async () => {
    const desc = await put(Buffer.from('ab'), 'application/octet-stream');
    expect((await collect(await openLayer(store, desc))).toString()).to.equal('ab');
  });

  it('a wrong diffID errors the stream with DigestMismatchError at the end', async () => {
    const info = await writeLayer(Readable.from([tar]), store);
    const wrong = sha256Of(Buffer.from('not this'));
    const err = await collect(await openLayer(store, info.descriptor, { verifyDiffID: wrong })).then(() => undefined, (e: unknown) => e as Error & { code?: string });
    expect(err?.name).to.equal('DigestMismatchError');
    expect(err?.message).to.contain(info.diffID);
  });

  it('a missing blob is NotFound', async () => {
    const desc: Descriptor = { mediaType: MediaType.OciLayerGzip, digest: sha256Of(Buffer.from('nope')), size: 4 };
    const err = await openLayer(store, desc).then(() => undefined, (e: unknown) => e as { category?: string });
    expect(err?.category).to.equal('NotFound');
  });

  it('aborting stops the stream', async () => {
    const info = await writeLayer(Readable.from([tar]), store);
    const ac = new AbortController();
    const stream = await openLayer(store, info.descriptor, { signal: ac.signal });
    ac.abort();
    const err = await collect(stream).then(() => undefined, (e: unknown) => e);
    expect((err as { code?: string })?.code, String(err)).to.equal('CANCELED');
  });
});
