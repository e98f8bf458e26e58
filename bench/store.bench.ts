/**
 * Store benchmark (issue 2): ingesting and compressing a large layer.
 *
 *   npx tsx bench/store.bench.ts [--size-mb 1024] [--keep]
 *
 * Makes a semi-compressible file (random blocks mixed with text, ~50%
 * compressible, like real layers), then in the same run measures MB/s of
 * `sha256sum`, `gzip -6`, `zstd -3` on it and of tsbuild's writeLayer (one
 * pass: diffID + compression on every core + verified ingest) with gzip and
 * zstd, each in its own process so its peak RSS is its own. tsbuild's peak RSS
 * must stay under 200 MB whatever the layer size.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const argv = process.argv.slice(2);
const sizeMB = Number(argv[argv.indexOf('--size-mb') + 1] || 1024);
const repo = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'tsbuild-store-bench-'));
const file = join(work, 'layer.bin');

function makeFile(): void {
  const fd = openSync(file, 'w');
  const text = Buffer.from('the quick brown fox jumps over the lazy dog 0123456789\n'.repeat(1200)).subarray(0, 64 << 10);
  for (let i = 0; i < sizeMB * 16; i++) writeSync(fd, i % 2 === 0 ? randomBytes(64 << 10) : text);
  closeSync(fd);
}

function time(cmd: string, args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} failed`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

function tsbuild(compression: string): { ms: number; maxRssKB: number; size: number } {
  const root = join(work, `store-${compression}`);
  const out = execFileSync(process.execPath, [join(repo, 'bench/store-ingest-child.mjs'), file, compression, root], { encoding: 'utf8' });
  rmSync(root, { recursive: true, force: true });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

try {
  makeFile();
  execFileSync('sync');
  const mbps = (ms: number) => (sizeMB / (ms / 1000)).toFixed(0);
  const rows: Array<[string, number, string]> = [];
  rows.push(['sha256sum', time('sh', ['-c', `sha256sum ${file} > /dev/null`]), '']);
  rows.push(['gzip -6', time('sh', ['-c', `gzip -6 -c ${file} > /dev/null`]), '']);
  rows.push(['zstd -3', time('sh', ['-c', `zstd -3 -q -c ${file} > /dev/null`]), '']);
  for (const c of ['gzip', 'zstd', 'none']) {
    const r = tsbuild(c);
    rows.push([`tsbuild writeLayer ${c}`, r.ms, `peak RSS ${(r.maxRssKB / 1024).toFixed(0)} MB, blob ${(r.size / 2 ** 20).toFixed(0)} MiB`]);
  }
  console.log(`\n${sizeMB} MiB semi-compressible layer, ${new Date().toISOString()}`);
  for (const [name, ms, note] of rows) console.log(`${name.padEnd(26)}${ms.toFixed(0).padStart(8)} ms ${mbps(ms).padStart(6)} MB/s   ${note}`);
  const g = rows.find((r) => r[0] === 'gzip -6')![1];
  const z = rows.find((r) => r[0] === 'zstd -3')![1];
  console.log(`ratio gzip -6 / tsbuild gzip: ${(g / rows.find((r) => r[0] === 'tsbuild writeLayer gzip')![1]).toFixed(2)} (> 1: tsbuild faster, while also hashing twice and ingesting)`);
  console.log(`ratio zstd -3 / tsbuild zstd: ${(z / rows.find((r) => r[0] === 'tsbuild writeLayer zstd')![1]).toFixed(2)}`);
} finally {
  if (!argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
}
