/**
 * Per-step overhead, two ways in one run:
 *
 * 1. The run engine: 50 executions of `true` through OciExecutor on a fresh
 *    overlay rootfs, against 50 bare `crun run` of a bundle prepared once (same
 *    spec defaults, rootfs a plain directory). Aim: engine <= 30 ms above bare crun.
 * 2. Whole builders: a Dockerfile of 50 distinct `RUN true # i` steps and one of
 *    a single step, each built on an empty cache by tsbuild, BuildKit (private
 *    dockerd, `DOCKER_BUILDKIT=1 docker build --network=host`) and buildah;
 *    per-step = (t(50 steps) - t(1 step)) / 49, the median over rounds, and the
 *    ratios BuildKit/tsbuild and buildah/tsbuild (> 1: tsbuild is faster).
 *
 *   npx tsx --conditions=tsbuild-source bench/run-step.bench.ts [--rounds N] [--only BUILDER] [--no-builders]
 *
 * Part 2 needs the compiled CLI (npx tsc -b), docker.io and buildah (see bench/run.sh).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildSpec, createExecutor, runInvocation } from '@tsbuild/runtime';
import { makeBusyboxRootfs, tempDir } from '../test/support/fixtures.js';
import { buildahBuilder, buildkitBuilder, makeBaseImage, tsbuildBuilder, type Builder } from './builders.js';

const N = 50;
const argv = process.argv.slice(2);
const opt = (name: string) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const rounds = Number(opt('--rounds') ?? 3);
const only = opt('--only');
const withBuilders = !argv.includes('--no-builders');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Part 2: cold builds of 1 and of N `RUN true # i` steps; returns per-builder medians. */
async function builderSteps(work: string): Promise<{ name: string; one: number; many: number; perStep: number }[]> {
  const base = await makeBaseImage(work);
  const ctx = (name: string, steps: number) => {
    const d = join(work, 'ctx', name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'Dockerfile'), 'FROM busybox:latest\n' + Array.from({ length: steps }, (_, i) => `RUN true # ${i + 1}\n`).join(''));
    return d;
  };
  const one = ctx('one', 1);
  const many = ctx(`steps${N}`, N);
  const opts = { work, ...base, tags: ['bench/one', 'bench/many'] };
  const builders = [tsbuildBuilder(opts), buildkitBuilder(opts), buildahBuilder(opts)].filter((b) => !only || b.name === only);
  const samples = new Map<string, { one: number[]; many: number[]; perStep: number[] }>(builders.map((b) => [b.name, { one: [], many: [], perStep: [] }]));
  const cold = async (b: Builder, context: string, tag: string) => {
    await b.reset();
    execFileSync('sync');
    await new Promise((r) => setTimeout(r, 2000));
    const start = performance.now();
    const printed = await b.build(context, tag);
    const ms = performance.now() - start;
    await b.verify(tag, printed);
    return ms;
  };
  const started: Builder[] = [];
  try {
    for (const b of builders) {
      await b.setup();
      started.push(b);
    }
    for (let r = 0; r < rounds; r++) {
      // Interleaved, order rotating per round, so the shared machine's slow phases hit every builder.
      for (const b of builders.map((_, i) => builders[(i + r) % builders.length]!)) {
        const s = samples.get(b.name)!;
        const t1 = await cold(b, one, 'bench/one');
        const tn = await cold(b, many, 'bench/many');
        s.one.push(t1);
        s.many.push(tn);
        s.perStep.push((tn - t1) / (N - 1));
        console.error(`  round ${r + 1} ${b.name.padEnd(9)} 1 step ${t1.toFixed(0).padStart(6)} ms   ${N} steps ${tn.toFixed(0).padStart(6)} ms`);
      }
    }
  } finally {
    for (const b of started) await b.teardown().catch((err) => console.error(err));
  }
  return builders.map((b) => {
    const s = samples.get(b.name)!;
    return { name: b.name, one: median(s.one), many: median(s.many), perStep: median(s.perStep) };
  });
}

function stats(samples: number[]): { median: number; p90: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
  return { median: at(0.5), p90: at(0.9) };
}

const t = tempDir('tsbuild-bench-');
try {
  const lower = makeBusyboxRootfs(join(t.path, 'lower'));
  const executor = await createExecutor({ runtime: 'crun', stateDir: join(t.path, 'state'), bundleDir: join(t.path, 'bundles') });

  // Bare crun: one bundle, the rootfs a plain copy, a spec with the same defaults.
  const bundle = join(t.path, 'bare');
  mkdirSync(bundle);
  cpSync(lower, join(bundle, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  const request = { rootfs: [], process: { args: ['true'], env: [], cwd: '/' }, mounts: [], network: 'none' as const };
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(buildSpec(request, { uid: 0, gid: 0, additionalGids: [], home: '/root' }, { mounts: [] })));

  const bare: number[] = [];
  for (let i = 0; i < N; i++) {
    // Through the same host shim the engine uses (empty on non-hybrid cgroup hosts), so only engine work differs.
    const inv = runInvocation(executor.runtime, bundle, `bare-${i}`);
    const start = performance.now();
    const r = spawnSync(inv.file, inv.args, { stdio: ['ignore', 'ignore', 'inherit'] });
    bare.push(performance.now() - start);
    if (r.status !== 0) throw new Error(`bare crun run failed: ${r.status}`);
  }

  const engine: number[] = [];
  for (let i = 0; i < N; i++) {
    const dir = join(t.path, `ov-${i}`);
    mkdirSync(join(dir, 'upper'), { recursive: true });
    mkdirSync(join(dir, 'work'));
    const rootfs = [{ type: 'overlay', source: 'overlay', options: ['index=off', `lowerdir=${lower}`, `upperdir=${join(dir, 'upper')}`, `workdir=${join(dir, 'work')}`] }];
    const start = performance.now();
    const { exitCode } = await executor.run({ ...request, rootfs });
    engine.push(performance.now() - start);
    if (exitCode !== 0) throw new Error(`engine run failed: ${exitCode}`);
  }

  const b = stats(bare);
  const e = stats(engine);
  const fmt = (n: number) => n.toFixed(1).padStart(7);
  console.log(`runtime: ${executor.runtime.path}${executor.runtime.shim?.length ? ' (via hybrid-cgroup unshare shim)' : ''}, ${N} runs each`);
  console.log(`                 median      p90   (ms)`);
  console.log(`bare crun run   ${fmt(b.median)}  ${fmt(b.p90)}`);
  console.log(`tsbuild engine  ${fmt(e.median)}  ${fmt(e.p90)}`);
  console.log(`overhead        ${fmt(e.median - b.median)}  ${fmt(e.p90 - b.p90)}   (aim: <= 30 ms)`);

  if (withBuilders) {
    const rows = await builderSteps(join(t.path, 'builders'));
    const ts = rows.find((r) => r.name === 'tsbuild');
    console.log(`\ncold builds of FROM busybox + 1 or ${N} \`RUN true # i\` steps, median of ${rounds} rounds (ms)`);
    console.log(['builder', '1 step', `${N} steps`, 'per step', 'per step - crun', 'vs tsbuild'].map((c) => c.padStart(16)).join(''));
    for (const r of rows) {
      console.log([r.name, r.one.toFixed(0), r.many.toFixed(0), r.perStep.toFixed(1), (r.perStep - b.median).toFixed(1), ts ? (r.perStep / ts.perStep).toFixed(2) : '-']
        .map((c) => c.padStart(16)).join(''));
    }
    console.log(`(per step = (t${N} - t1) / ${N - 1}; "per step - crun" subtracts the bare crun run median above; vs tsbuild > 1: tsbuild is faster)`);
  }
} finally {
  t.cleanup();
}
