/**
 * Parallel layer compression vs the single-threaded baseline BuildKit uses
 * (one gzip stream per layer).
 *
 *   npx tsx --conditions=tsbuild-source bench/compress.bench.ts [--mb 200] [--rounds 2]
 *
 * Streams ~200 MB of semi-compressible data (words plus random runs, roughly
 * what a layer of text and binaries compresses like) through:
 *   gzip  node:zlib createGzip (level 6)         vs createCompressStream('gzip')
 *   zstd  zstd-napi CompressStream (level 3)     vs createCompressStream('zstd')
 * and prints MB/s of input, output size, and the speed-up (> 1: parallel is faster).
 * The source is a pre-generated 32 MiB buffer replayed in 64 KiB writes, so
 * data generation is not measured; with 1 MiB chunks and gzip's 32 KiB window
 * the replay does not make the data easier to compress.
 */
import { availableParallelism } from 'node:os';
import { Readable, Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { CompressStream } from 'zstd-napi';
import { createCompressStream } from '@tsbuild/store';

const argv = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const totalBytes = opt('--mb', 200) * 1024 * 1024;
const rounds = opt('--rounds', 2);

function semiCompressible(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = 0x9e3779b9;
  const rnd = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x >>> 0);
  const words = ['layer ', 'snapshot ', 'digest ', 'overlay ', 'chunk ', 'tar ', 'usr/lib/', 'libc.so.6\n', '#include <stdio.h>\n'];
  let off = 0;
  while (off < size) {
    const r = rnd();
    if (r % 23 === 0) {
      const n = Math.min(size - off, 16 + (r % 96));
      for (let i = 0; i < n; i++) out[off + i] = rnd() & 0xff;
      off += n;
    } else off += out.write(words[r % words.length]!, off, 'latin1');
  }
  return out;
}

const pool = semiCompressible(32 * 1024 * 1024);

function source(): Readable {
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < totalBytes; ) {
        const n = Math.min(65536, totalBytes - sent);
        const off = sent % (pool.length - 65536);
        yield pool.subarray(off, off + n);
        sent += n;
      }
    })(),
    { objectMode: false },
  );
}

async function measure(make: () => Duplex): Promise<{ mbps: number; out: number }> {
  let best = Infinity;
  let out = 0;
  for (let r = 0; r < rounds; r++) {
    out = 0;
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        out += chunk.length;
        cb();
      },
    });
    const t0 = performance.now();
    await pipeline(source(), make(), sink);
    best = Math.min(best, performance.now() - t0);
  }
  return { mbps: totalBytes / 1024 / 1024 / (best / 1000), out };
}

const fmt = (n: number) => n.toFixed(1).padStart(8);
console.log(`compress bench: ${totalBytes / 1024 / 1024} MiB, ${availableParallelism()} threads, best of ${rounds}`);
console.log(`${'codec'.padEnd(6)} ${'single MB/s'.padStart(12)} ${'parallel MB/s'.padStart(14)} ${'speed-up'.padStart(9)} ${'single out'.padStart(11)} ${'parallel out'.padStart(13)}`);
for (const [name, single, parallel] of [
  ['gzip', () => createGzip({ level: 6 }), () => createCompressStream('gzip', { level: 6 })],
  ['zstd', () => new CompressStream({ compressionLevel: 3 }), () => createCompressStream('zstd', { level: 3 })],
] as const) {
  const s = await measure(single);
  const p = await measure(parallel);
  const mib = (b: number) => `${(b / 1024 / 1024).toFixed(1)}M`;
  console.log(`${name.padEnd(6)} ${fmt(s.mbps).padStart(12)} ${fmt(p.mbps).padStart(14)} ${(p.mbps / s.mbps).toFixed(2).padStart(8)}x ${mib(s.out).padStart(11)} ${mib(p.out).padStart(13)}`);
}
process.exit(0);
