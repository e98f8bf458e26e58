/**
 * Context checksum speed: cold (every file read and hashed) vs warm (the
 * stat-keyed ChecksumCache reopened from disk, as a rebuild does).
 *
 *   npx tsx --conditions=tsbuild-source bench/context-checksum.bench.ts [--files 20000] [--wait 65] [--no-wait] [--dir /tmp]
 *
 * Creates a context of `--files` small files (1–16 KiB, 100 per directory),
 * then syncs and waits `--wait` seconds before the measured runs: on this
 * machine's journal-less ext4, deleting many files (the previous run's
 * cleanup) keeps the disk busy for about a minute and skews the numbers.
 * `--no-wait` skips the wait for a quick local look (numbers then noisy).
 * "Cold" drops nothing from the page cache (that needs root and is
 * machine-wide); it measures hashing plus stats, not the disk.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checksumContext, openChecksumCache } from '@tsbuild/builder';

const argv = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : def;
};
const files = Number(opt('--files', '20000'));
const waitSeconds = argv.includes('--no-wait') ? 0 : Number(opt('--wait', '65'));
const base = mkdtempSync(join(opt('--dir', tmpdir()), 'tsbuild-bench-ctx-'));
const contextDir = join(base, 'context');
const cacheDir = join(base, 'cache/checksums');

function makeContext(): number {
  let bytes = 0;
  let x = 0x2545f491;
  for (let i = 0; i < files; i++) {
    const dir = join(contextDir, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const size = 1024 + ((x >>> 0) % (15 * 1024));
    writeFileSync(join(dir, `f${i}.txt`), Buffer.alloc(size, i % 251));
    bytes += size;
  }
  return bytes;
}

async function measure(label: string, warm: boolean): Promise<string> {
  if (!warm) rmSync(cacheDir, { recursive: true, force: true });
  const cache = await openChecksumCache({ dir: cacheDir, contextDir });
  const start = process.hrtime.bigint();
  const result = await checksumContext({ contextDir, patterns: ['.'], cache });
  await cache.save();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const n = Object.keys(result.files).length;
  console.log(
    `${label.padEnd(6)} ${ms.toFixed(0).padStart(7)} ms  ${Math.round((n / ms) * 1000).toString().padStart(8)} entries/s  hashed ${cache.stats.hashed}, cache hits ${cache.stats.hits}`,
  );
  return result.digest;
}

try {
  console.log(`creating ${files} files in ${contextDir} …`);
  const bytes = makeContext();
  console.log(`${(bytes / 1024 / 1024).toFixed(1)} MiB`);
  if (waitSeconds > 0) {
    execFileSync('sync');
    console.log(`synced; waiting ${waitSeconds} s for the disk to settle (--no-wait to skip)`);
    await new Promise((r) => setTimeout(r, waitSeconds * 1000));
  }
  const cold = await measure('cold', false);
  const warm = await measure('warm', true);
  await measure('warm', true);
  if (cold !== warm) throw new Error('warm digest differs from cold digest');
} finally {
  rmSync(base, { recursive: true, force: true });
}
