/**
 * Issue 16, "how many clients one server takes": N concurrent clients (1, 2,
 * 4, 8), each a `tsbuild build --server` process with its own context (so no
 * step is shared: every build runs its COPY and RUN), against one
 * `tsbuild serve` on a unix socket. Prints total wall time, per-build median
 * and max, and builds per minute, for each N; the machine's CPU count and
 * load average before and after, since other work on the machine skews it.
 *
 *   npx tsx --conditions=tsbuild-source bench/server-clients.bench.ts [--rounds N] [--max-parallel-builds N]
 *
 * The project: busybox, COPY of a 64 KiB file, a RUN doing ~0.5 s of shell
 * work on one core and writing 2 MB. Each round uses fresh contexts.
 * Results: docs/deploy.md, "Capacity of one server".
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, sh } from './builders.js';
import { makeBusyboxRootfs } from '../test/support/fixtures.js';
import { startServe } from '../cli/test/serve-support.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
const rounds = arg('--rounds', 2);
const maxParallel = arg('--max-parallel-builds', 4);
const work = mkdtempSync(join(tmpdir(), 'tsbuild-bench-serve-'));
const root = join(work, 'store');
const sock = join(work, 'run', 'tsbuild.sock');

const DOCKERFILE = 'FROM busybox:latest\nCOPY data /data\nRUN i=0; while [ $i -lt 60000 ]; do i=$((i+1)); done; sha256sum /data > /sum && seq 1 300000 > /seq\n';

function context(name: string): string {
  const dir = join(work, 'ctx', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), DOCKERFILE);
  writeFileSync(join(dir, 'data'), randomBytes(64 * 1024));
  return dir;
}

/** One client process; resolves to its wall time in ms. */
async function client(ctx: string): Promise<number> {
  const t0 = performance.now();
  await sh(process.execPath, [cli, '--root', join(work, 'client'), 'build', '--server', `unix://${sock}`, '-q', ctx]);
  return performance.now() - t0;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

async function main(): Promise<void> {
  await sh(process.execPath, [cli, '--root', root, 'import', makeBusyboxRootfs(join(work, 'rootfs')), '-t', 'busybox:latest']);
  const server = await startServe(root, sock, ['--max-parallel-builds', String(maxParallel)]);
  try {
    console.log(`one server, --max-parallel-builds ${maxParallel}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); load average before: ${load()}`);
    await client(context('warm-up')); // the first build pays the server's lazy loads
    console.log('clients  round  total s  median build s  max build s  builds/min');
    for (const n of [1, 2, 4, 8]) {
      for (let r = 0; r < rounds; r++) {
        const contexts = Array.from({ length: n }, (_, i) => context(`n${n}-r${r}-c${i}`));
        const t0 = performance.now();
        const times = await Promise.all(contexts.map(client));
        const total = performance.now() - t0;
        console.log(`${String(n).padStart(7)}  ${String(r + 1).padStart(5)}  ${(total / 1000).toFixed(2).padStart(7)}  ${(median(times) / 1000).toFixed(2).padStart(13)}  ${(Math.max(...times) / 1000).toFixed(2).padStart(11)}  ${((n / total) * 60_000).toFixed(1).padStart(10)}`);
      }
    }
    console.log(`load average after: ${load()}`);
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
