/**
 * Per-step overhead of the run engine: 50 executions of `true` through
 * OciExecutor on a fresh overlay rootfs, against 50 bare `crun run` of a
 * bundle prepared once (same spec defaults, rootfs a plain directory).
 * Run: npx tsx --conditions=tsbuild-source bench/run-step.bench.ts
 * (or build runtime first: npx tsc -b runtime && npx tsx bench/run-step.bench.ts)
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildSpec, createExecutor, runInvocation } from '@tsbuild/runtime';
import { makeBusyboxRootfs, tempDir } from '../test/support/fixtures.js';

const N = 50;

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
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(buildSpec(request, { uid: 0, gid: 0, additionalGids: [] }, { mounts: [] })));

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
} finally {
  t.cleanup();
}
