import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer as collect } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'zstd-napi';
import { isCanceled } from '@tsbuild/core';
import { createCompressStream, createDecompressStream } from '../src/layer/compress.js';
import { incompressible } from '../src/layer/compress-chunk.js';
import { EMPTY_TAR_DIFF_ID, EMPTY_TAR_GZIP_DIGEST } from '../src/layer/empty-tar.js';
import { CompressPool } from '../src/layer/compress-pool.js';
import { tempDir } from '../../test/support/fixtures.js';
import { semiCompressible } from './layer-fixtures.js';

async function compress(data: Buffer, compression: 'gzip' | 'zstd', opts: Parameters<typeof createCompressStream>[1] = {}, writeSize = 65536) {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += writeSize) parts.push(data.subarray(i, i + writeSize));
  return collect(Readable.from(parts).pipe(createCompressStream(compression, opts)));
}

/** Offsets of gzip member headers (1f 8b 08) in `buf` — an upper bound on members, good enough to count them. */
function countMagic(buf: Buffer, magic: number[]): number {
  let n = 0;
  for (let i = buf.indexOf(magic[0]!); i >= 0; i = buf.indexOf(magic[0]!, i + 1)) if (magic.every((b, k) => buf[i + k] === b)) n++;
  return n;
}

describe('compress: parallel gzip/zstd streams', () => {
  const data = semiCompressible(5 * 1024 * 1024 + 12345);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  it('gzip of the empty tar is the well-known 32-byte blob BuildKit pushes (sha256:4f4fb700…), in however many writes; zstd is not special', async () => {
    const empty = Buffer.alloc(1024);
    for (const writeSize of [1024, 100]) {
      const gz = await compress(empty, 'gzip', {}, writeSize);
      expect(`sha256:${sha(gz)}`).to.equal(EMPTY_TAR_GZIP_DIGEST);
      expect(gz.length).to.equal(32);
      expect(gunzipSync(gz).equals(empty)).to.equal(true);
      expect(execFileSync('gzip', ['-dc'], { input: gz }).equals(empty)).to.equal(true);
    }
    expect(`sha256:${sha(empty)}`).to.equal(EMPTY_TAR_DIFF_ID);
    // Any other input, even one zero byte more, is zlib's.
    expect(`sha256:${sha(await compress(Buffer.alloc(1025), 'gzip'))}`).to.not.equal(EMPTY_TAR_GZIP_DIGEST);
    expect(zstdDecompress(await compress(empty, 'zstd')).equals(empty)).to.equal(true);
  });

  it('gzip: concatenated members decode with node zlib and the gzip CLI', async () => {
    const gz = await compress(data, 'gzip', { chunkSize: 1 << 20 });
    expect(countMagic(gz, [0x1f, 0x8b, 0x08])).to.be.at.least(6);
    expect(gunzipSync(gz).equals(data)).to.equal(true);
    const streamed = await collect(Readable.from([gz]).pipe(createDecompressStream('gzip')));
    expect(streamed.equals(data)).to.equal(true);
    const tmp = tempDir();
    try {
      const f = join(tmp.path, 'x.gz');
      writeFileSync(f, gz);
      execFileSync('gzip', ['-t', f]);
      expect(sha(execFileSync('zcat', [f], { maxBuffer: 64 << 20 }))).to.equal(sha(data));
    } finally {
      tmp.cleanup();
    }
  });

  it('zstd: concatenated frames decode with zstd-napi and the zstd CLI', async () => {
    const zs = await compress(data, 'zstd', { chunkSize: 1 << 20 });
    expect(countMagic(zs, [0x28, 0xb5, 0x2f, 0xfd])).to.be.at.least(6);
    expect(zstdDecompress(zs).equals(data)).to.equal(true);
    const streamed = await collect(Readable.from([zs]).pipe(createDecompressStream('zstd')));
    expect(streamed.equals(data)).to.equal(true);
    if (!existsSync('/usr/bin/zstd')) throw new Error('zstd CLI missing (apt-get install zstd)');
    const tmp = tempDir();
    try {
      const f = join(tmp.path, 'x.zst');
      writeFileSync(f, zs);
      execFileSync('zstd', ['-q', '-t', f]);
      expect(sha(execFileSync('zstd', ['-q', '-d', '-c', f], { maxBuffer: 64 << 20 }))).to.equal(sha(data));
    } finally {
      tmp.cleanup();
    }
  });

  it('is deterministic whatever the write sizes and thread count', async () => {
    for (const c of ['gzip', 'zstd'] as const) {
      const a = await compress(data, c, { threads: 4 }, 65536);
      const b = await compress(data, c, { threads: 1 }, 777_777);
      expect(sha(a), c).to.equal(sha(b));
    }
  });

  it('gzip headers carry no mtime or file name', async () => {
    const gz = await compress(Buffer.from('hello'), 'gzip');
    expect(gz[3], 'FLG').to.equal(0);
    expect(gz.readUInt32LE(4), 'MTIME').to.equal(0);
  });

  it('small and empty input become one member / frame', async () => {
    for (const c of ['gzip', 'zstd'] as const) {
      const small = await compress(Buffer.from('tiny'), c);
      const empty = await compress(Buffer.alloc(0), c);
      const dec = async (b: Buffer) => (await collect(Readable.from([b]).pipe(createDecompressStream(c)))).toString();
      expect(await dec(small)).to.equal('tiny');
      expect(await dec(empty)).to.equal('');
      expect(empty.length).to.be.greaterThan(0);
    }
  });

  it('stores incompressible chunks (random bytes) instead of deflating them, and still deflates text', async () => {
    const random = randomBytes(3 * 1024 * 1024);
    const text = Buffer.from(Array.from({ length: 400_000 }, (_, i) => `${i}\n`).join(''));
    const input = Buffer.concat([random, text]);
    const out = await compress(input, 'gzip');
    expect(gunzipSync(out).equals(input)).to.equal(true);
    expect(execFileSync('gzip', ['-dc'], { input: out, maxBuffer: 64 << 20 }).equals(input)).to.equal(true);
    // Stored random chunks grow by deflate's block framing only (5 bytes per 64 KiB + member header);
    // the text (~2.6 MB) still shrinks about 3x.
    expect(out.length).to.be.lessThan(random.length * 1.001 + text.length / 2);
    expect(out.length).to.be.greaterThan(random.length);
    // Same bytes again: the probe depends on content only.
    expect((await compress(input, 'gzip', { threads: 1 }, 12345)).equals(out)).to.equal(true);
    expect(incompressible(random.subarray(0, 1 << 20))).to.equal(true);
    expect(incompressible(text.subarray(0, 1 << 20))).to.equal(false);
  });

  it('a warmed pool has its threads up before the first chunk, and they do not keep the process alive', async function () {
    this.timeout(30_000);
    const pool = new CompressPool(2);
    try {
      pool.warm();
      pool.warm(); // idempotent: still two threads
      const workers = (pool as unknown as { workers: Array<{ worker: { threadId: number } }> }).workers;
      expect(workers.map((w) => w.worker.threadId)).to.have.length(2);
      const out = await compress(data, 'gzip', { pool, threads: 2 });
      expect(gunzipSync(out).equals(data)).to.equal(true);
      expect(workers).to.have.length(2);
      // Idle and unref'd: a child process that only warms a pool exits on its own.
      const script = `import { CompressPool } from ${JSON.stringify(new URL('../src/layer/compress-pool.ts', import.meta.url).href)}; new CompressPool(2).warm();`;
      execFileSync(process.execPath, [...process.execArgv, '--input-type=module', '-e', script], { timeout: 20_000 });
    } finally {
      await pool.close();
    }
  });

  it("'none' passes bytes through", async () => {
    const out = await collect(Readable.from([Buffer.from('abc')]).pipe(createCompressStream('none')));
    expect(out.toString()).to.equal('abc');
  });

  it('keeps memory bounded: the writer waits when chunks are in flight and nobody reads', async () => {
    const stream = createCompressStream('gzip', { threads: 2, chunkSize: 64 * 1024 });
    let written = 0;
    const chunk = randomBytes(64 * 1024); // incompressible, so output is as big as input
    for (let i = 0; i < 200; i++) {
      if (!stream.write(chunk)) break;
      written += chunk.length;
    }
    await new Promise((r) => setTimeout(r, 300));
    // With nobody reading, the writable side must refuse long before 200 chunks.
    expect(written).to.be.lessThan(20 * 64 * 1024);
    stream.destroy();
  });

  it('aborts with a CanceledError', async () => {
    const ac = new AbortController();
    const src = Readable.from((async function* () {
      for (let i = 0; i < 1000; i++) {
        if (i === 3) ac.abort();
        yield data.subarray(0, 1 << 20);
      }
    })());
    const err = await pipeline(src, createCompressStream('zstd', { signal: ac.signal }), async function* (s) {
      for await (const _ of s) yield _;
    }).then(() => undefined, (e: unknown) => e);
    expect(isCanceled(err), String(err)).to.equal(true);
  });
});
