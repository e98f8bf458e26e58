/** Test helpers for layer tests: real tar streams made by the tar CLI, deterministic. */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

const TAR_FLAGS = ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=pax', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime'];

/** A tar of `dir`'s contents (entries `./…`) as bytes. */
export function tarBytes(dir: string, entries: string[] = ['.']): Buffer {
  return execFileSync('tar', [...TAR_FLAGS, '-C', dir, '-cf', '-', ...entries], { maxBuffer: 256 << 20 });
}

/** The same tar as a live stream from the tar process. */
export function tarStream(dir: string, entries: string[] = ['.']): Readable {
  const child = spawn('tar', [...TAR_FLAGS, '-C', dir, '-cf', '-', ...entries], { stdio: ['ignore', 'pipe', 'inherit'] });
  return child.stdout;
}

export function sha256Of(data: Uint8Array): `sha256:${string}` {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Semi-compressible data: random words from a small vocabulary plus random runs. */
export function semiCompressible(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  const rnd = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), x >>> 0);
  const words = ['layer ', 'snapshot ', 'digest ', 'overlay ', 'chunk ', 'tar ', 'zstd ', 'gzip\n'];
  let off = 0;
  while (off < size) {
    const r = rnd();
    if (r % 7 === 0) {
      const n = Math.min(size - off, 16 + (r % 48));
      for (let i = 0; i < n; i++) out[off + i] = rnd() & 0xff;
      off += n;
    } else off += out.write(words[r % words.length]!, off, 'latin1');
  }
  return out;
}
