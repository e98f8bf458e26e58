/**
 * tsbuild vs BuildKit (dockerd's, `DOCKER_BUILDKIT=1 docker build --network=host`)
 * vs buildah, in the same run, on the same Dockerfiles and base image.
 *
 *   npx tsx --conditions=tsbuild-source bench/build.bench.ts [--rounds N] [--only NAME] [--no-wait]
 *
 * Scenarios (each builder gets the same sequence):
 *   cold      first build, empty cache
 *   warm      the same build again (everything cached)
 *   edit      one COPYed file changed: the COPY and the steps after it rerun
 *   steps     20 RUN steps on a cold cache: per-step overhead
 *   context   a 5,000-file context copied in (cold, then warm after a touch)
 *
 * The root filesystem here is ext4 without a journal: creating many files soon
 * after deleting many is several times slower, so before every measured run the
 * bench runs `sync` and waits 65 s (`--no-wait` skips that for a quick look,
 * and then its numbers mean little). Prints a table of medians and the ratios
 * BuildKit/tsbuild and buildah/tsbuild (> 1 means tsbuild is faster), then
 * every sample. Builders interleave within a round (order rotating), and every
 * build is verified untimed (the tag exists and names what `-q` printed; the
 * edit build is a new image). Builder flags (buildah: overlay, runc) and the
 * cache resets are in bench/builders.ts; results in docs/BENCHMARKS.md.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildahBuilder, buildkitBuilder, digestIn, makeBaseImage, tsbuildBuilder, type Builder } from './builders.js';

const run = promisify(execFile);
const argv = process.argv.slice(2);
const opt = (name: string) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const rounds = Number(opt('--rounds') ?? 3);
const only = opt('--only');
const wait = !argv.includes('--no-wait');
const work = mkdtempSync(join(tmpdir(), 'tsbuild-bench-'));
async function settle(): Promise<void> {
  await run('sync');
  if (wait) await new Promise((r) => setTimeout(r, 65_000));
}

function writeContexts(): Record<string, string> {
  const ctx = (name: string) => { const d = join(work, 'ctx', name); mkdirSync(d, { recursive: true }); return d; };
  const app = ctx('app');
  writeFileSync(join(app, 'Dockerfile'), 'FROM busybox:latest\nRUN echo base > /base\nCOPY app.txt /app/\nRUN wc -c /app/app.txt > /app/size\nCMD ["cat", "/app/size"]\n');
  writeFileSync(join(app, 'app.txt'), 'version 1\n');
  const steps = ctx('steps');
  writeFileSync(join(steps, 'Dockerfile'), 'FROM busybox:latest\n' + Array.from({ length: 20 }, (_, i) => `RUN echo ${i} > /step-${i}\n`).join(''));
  const many = ctx('context');
  writeFileSync(join(many, 'Dockerfile'), 'FROM busybox:latest\nCOPY files /files\nRUN ls /files | wc -l\n');
  mkdirSync(join(many, 'files'));
  for (let d = 0; d < 50; d++) {
    mkdirSync(join(many, 'files', `d${d}`));
    for (let f = 0; f < 100; f++) writeFileSync(join(many, 'files', `d${d}`, `f${f}`), `${d}/${f}\n`);
  }
  return { app, steps, many };
}

/** Times one build, then (untimed) checks that the tag exists and is what the build printed. */
async function timed(b: Builder, context: string, tag: string): Promise<{ ms: number; id: string }> {
  const t = process.hrtime.bigint();
  const printed = await b.build(context, tag);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  await b.verify(tag, printed);
  return { ms, id: digestIn(printed) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const base = await makeBaseImage(work);
  const ctx = writeContexts();
  const opts = { work, ...base, tags: ['bench/app', 'bench/steps', 'bench/many'] };
  const builders = [tsbuildBuilder(opts), buildkitBuilder(opts), buildahBuilder(opts)].filter((b) => !only || b.name === only);
  const results: Record<string, Record<string, number[]>> = {};
  const record = (b: string, s: string, r: { ms: number }) => {
    ((results[s] ??= {})[b] ??= []).push(r.ms);
    console.error(`  ${b.padEnd(9)} ${s.padEnd(14)} ${r.ms.toFixed(0).padStart(7)} ms`);
  };
  const started: Builder[] = [];
  try {
    for (const b of builders) {
      await b.setup();
      started.push(b);
    }
    // Builders interleave within each round (order rotating per round), so a
    // slow phase of the shared machine hits all of them rather than one.
    for (let r = 0; r < rounds; r++) {
      const order = builders.map((_, i) => builders[(i + r) % builders.length]!);
      console.error(`round ${r + 1}/${rounds}: ${order.map((b) => b.name).join(', ')}`);
      for (const b of order) {
        await b.reset();
        writeFileSync(join(ctx.app, 'app.txt'), 'version 1\n');
        await settle();
        const cold = await timed(b, ctx.app, 'bench/app');
        record(b.name, 'cold', cold);
        const warm = await timed(b, ctx.app, 'bench/app');
        record(b.name, 'warm', warm);
        writeFileSync(join(ctx.app, 'app.txt'), `version ${r + 2}\n`);
        const edit = await timed(b, ctx.app, 'bench/app');
        if (edit.id === warm.id) throw new Error(`${b.name}: the edit build produced the unedited image ${edit.id}`);
        record(b.name, 'edit', edit);
      }
      for (const b of order) {
        await b.reset();
        await settle();
        record(b.name, 'steps', await timed(b, ctx.steps, 'bench/steps'));
      }
      for (const b of order) {
        await b.reset();
        await settle();
        record(b.name, 'context', await timed(b, ctx.many, 'bench/many'));
        const now = new Date();
        utimesSync(join(ctx.many, 'files/d0/f0'), now, now);
        record(b.name, 'context-touch', await timed(b, ctx.many, 'bench/many'));
      }
    }
  } finally {
    for (const b of started) await b.teardown();
  }
  const names = builders.map((b) => b.name);
  console.log(`\nmedian of ${rounds} rounds, ms${wait ? '' : ' (--no-wait: numbers are indicative only)'}`);
  console.log(['scenario', ...names, 'buildkit/tsbuild', 'buildah/tsbuild'].map((s) => s.padEnd(18)).join(''));
  for (const [scenario, byBuilder] of Object.entries(results)) {
    const m = (n: string) => (byBuilder[n] ? median(byBuilder[n]!) : NaN);
    const ratio = (n: string) => (m(n) / m('tsbuild')).toFixed(2);
    console.log([scenario, ...names.map((n) => m(n).toFixed(0)), ratio('buildkit'), ratio('buildah')].map((s) => s.padEnd(18)).join(''));
  }
  console.log('\nall samples, ms (in round order)');
  for (const [scenario, byBuilder] of Object.entries(results)) {
    console.log(`${scenario.padEnd(16)}${names.map((n) => `${n}: ${(byBuilder[n] ?? []).map((x) => x.toFixed(0)).join(' ')}`).join('   ')}`);
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
