/**
 * The registry build cache (issue 14): tsbuild's `--cache-to/--cache-from`
 * against BuildKit as dockerd 20.10 embeds it, through Debian's docker-registry
 * on 127.0.0.1 (plain HTTP), on the debian-app scenario
 * (/work/shared/bench-scenarios/debian-app, FROM debian:local).
 *
 *   npx tsx --conditions=tsbuild-source bench/cache.bench.ts [--rounds 3] [--settle 15]
 *
 * What BuildKit can do here. There is no buildx and no buildkitd/buildctl on
 * this machine (`docker buildx` is an unknown command), so BuildKit's registry
 * cache exporter (`--cache-to type=registry`, mode=max) cannot run. The classic
 * `DOCKER_BUILDKIT=1 docker build` has no --cache-to; its only export is the
 * inline cache (`--build-arg BUILDKIT_INLINE_CACHE=1`, cache metadata in the
 * image config; "the `inline` cache exporter only supports `min` cache mode",
 * BuildKit README.md) published by `docker push`, and its import is
 * `--cache-from REF`. So the comparisons are:
 *   export-first      warm store/daemon (tsbuild's store new each round, so no
 *                     layer has a compressed variant yet), no-op rebuild, to an
 *                     empty registry:
 *                     tsbuild `build --cache-to type=registry,ref=R,mode=max`
 *                     vs BuildKit `build --build-arg BUILDKIT_INLINE_CACHE=1 -t R`
 *                     + `docker push R` (every step's layers vs the image's)
 *   export-unchanged  the same again, the registry already holding everything
 *   noop-build        the no-op rebuild alone (tsbuild without --cache-to; BuildKit's
 *                     build of the export rows) and BuildKit's push alone, so
 *                     each export's own share can be read off the totals
 *   import            fresh store / fresh dockerd (base image loaded untimed,
 *                     then `sync` and --settle seconds idle): tsbuild
 *                     `--cache-from type=registry,ref=R` and tsbuild
 *                     `--cache-from IMAGE` (its inline cache) vs BuildKit
 *                     `--cache-from R` (the inline-cache image)
 * Each timed build runs with plain progress and must report every RUN/COPY
 * step CACHED where it imported a cache (else the bench fails: a build that
 * ran its steps cannot count as an import). Ratios are tsbuild / BuildKit;
 * tsbuild's peak RSS is GNU time's %M of the CLI process.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDockerd, type Dockerd } from '../test/support/dockerd.js';
import { startRegistry } from '../registry-client/test/support/registry.js';
import { cli, sh } from './builders.js';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
const rounds = option('--rounds', 3);
const settleSeconds = option('--settle', 15);
const repo = resolve(import.meta.dirname, '..');
const scenario = '/work/shared/bench-scenarios/debian-app';
const work = mkdtempSync(join(tmpdir(), 'tsbuild-cache-bench-'));
/** The Dockerfile's steps that a cache import must report CACHED: 4 RUN and 1 COPY (WORKDIR is metadata in BuildKit). */
const CACHED_STEPS = 5;

interface Run { ms: number; output: string; rssKb?: number }

/** Runs a command and times it; with `rss`, under GNU time (peak RSS, KiB). Output is stdout + stderr. */
function timed(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; rss?: boolean } = {}): Promise<Run> {
  const [file, argl] = options.rss ? ['/usr/bin/time', ['-f', 'RSS %M', cmd, ...args]] : [cmd, args];
  return new Promise((ok, fail) => {
    const t = process.hrtime.bigint();
    const p = spawn(file, argl, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (c) => (output += c));
    p.stderr.on('data', (c) => (output += c));
    p.on('error', fail);
    p.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (code !== 0) { fail(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${output.slice(-4000)}`)); return; }
      const m = /RSS (\d+)\s*$/.exec(output);
      ok(m ? { ms, output, rssKb: Number(m[1]) } : { ms, output });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const settle = async () => { await sh('sync', []); await new Promise((r) => setTimeout(r, settleSeconds * 1000)); };

/** Fails unless a build that imported a cache reports its steps CACHED (tsbuild and BuildKit both print `CACHED` per step). */
function expectCached(who: string, output: string): number {
  const cached = output.split('\n').filter((l) => /\bCACHED\b/.test(l)).length;
  if (cached < CACHED_STEPS) throw new Error(`${who}: ${cached} steps CACHED, expected ≥ ${CACHED_STEPS}:\n${output.slice(-3000)}`);
  return cached;
}

async function main(): Promise<void> {
  const head = await sh('git', ['-C', repo, 'rev-parse', '--short', 'HEAD']);
  console.error(`start ${new Date().toISOString()}, commit ${head}, cli ${cli}, work ${work}, settle ${settleSeconds} s`);
  await sh('sh', [join(scenario, 'gen.sh')]);
  const ctx = join(work, 'ctx');
  cpSync(scenario, ctx, { recursive: true });

  // debian:local in a seed store, as a docker archive for the other stores and the daemons.
  const seed = join(work, 'seed');
  await sh('bash', [join(repo, 'scripts/make-debian-base.sh'), seed, 'debian:local'], { ...process.env, TSBUILD_CLI: `node ${cli}` });
  const baseTar = join(work, 'debian.tar');
  await sh('node', [cli, '--root', seed, 'save', '--format', 'docker', '-o', baseTar, 'debian:local']);
  rmSync(seed, { recursive: true, force: true });

  const results: Record<string, Record<string, number[]>> = {};
  const rss: number[] = [];
  const loads: number[] = [];
  const record = (row: string, tool: string, r: Run, note = '') => {
    ((results[row] ??= {})[tool] ??= []).push(r.ms);
    if (r.rssKb) rss.push(r.rssKb);
    loads.push(loadavg()[0]!);
    console.error(`  ${row.padEnd(17)} ${tool.padEnd(17)} ${r.ms.toFixed(0).padStart(7)} ms${r.rssKb ? `  peak RSS ${(r.rssKb / 1024).toFixed(0)} MiB` : ''}  load ${loadavg().map((l) => l.toFixed(2)).join(' ')}${note}`);
  };
  const tsbuild = (root: string, args: string[]) => timed('node', [cli, '--root', root, ...args], { rss: true });
  const dockerBuild = (d: Dockerd, args: string[]) =>
    timed('/usr/bin/docker', ['build', '--progress=plain', '--network=host', ...args, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '1', DOCKER_HOST: d.host } });
  const dockerPush = (d: Dockerd, ref: string) => timed('/usr/bin/docker', ['push', ref], { env: { ...process.env, DOCKER_HOST: d.host } });
  const sum = (a: Run, b: Run): Run => ({ ms: a.ms + b.ms, output: a.output + b.output });

  // The exporting side, warm: dockerd A built the scenario once (untimed); it gzips
  // again on each push to a new registry. tsbuild's store A is made afresh each
  // round, so its first export compresses too.
  const dockerA = await startDockerd(join(work, 'docker-a'));
  try {
    await dockerA.docker(['load', '-i', baseTar]);
    await dockerBuild(dockerA, ['--build-arg', 'BUILDKIT_INLINE_CACHE=1', '-t', 'bench/warm']);

    for (let round = 1; round <= rounds; round++) {
      console.error(`round ${round}/${rounds} ${new Date().toISOString()}`);
      const storeA = join(work, `store-a-${round}`);
      await sh('node', [cli, '--root', storeA, 'load', '-i', baseTar]);
      await sh('node', [cli, '--root', storeA, 'build', '-q', '--network', 'host', ctx]);
      const reg = await startRegistry();
      try {
        const cacheRef = `${reg.host}/bench/cache:max`;
        const inlineRef = `${reg.host}/bench/app:inline`;
        const bkRef = `${reg.host}/bench/bk:inline`;
        // The no-op rebuild alone, so the export's own share can be read off the totals.
        record('noop-build', 'tsbuild', await tsbuild(storeA, ['build', '--progress', 'plain', '--network', 'host', ctx]));
        for (const row of ['export-first', 'export-unchanged']) {
          record(row, 'tsbuild', await tsbuild(storeA, ['build', '--progress', 'plain', '--network', 'host', '--cache-to', `type=registry,ref=${cacheRef},mode=max`, ctx]));
          const build = await dockerBuild(dockerA, ['--build-arg', 'BUILDKIT_INLINE_CACHE=1', '-t', bkRef]);
          const push = await dockerPush(dockerA, bkRef);
          record('noop-build', 'buildkit', build);
          record(`${row}-push`, 'buildkit', push);
          record(row, 'buildkit', sum(build, push));
        }
        // tsbuild's inline cache, for the second import (untimed).
        await sh('node', [cli, '--root', storeA, 'build', '-q', '--network', 'host', '--push', '-t', inlineRef, '--cache-to', 'type=inline', ctx]);

        const fresh = join(work, `store-${round}`);
        await sh('node', [cli, '--root', fresh, 'load', '-i', baseTar]);
        await settle();
        let r = await tsbuild(fresh, ['build', '--progress', 'plain', '--network', 'host', '--cache-from', `type=registry,ref=${cacheRef}`, ctx]);
        record('import', 'tsbuild', r, `  ${expectCached('tsbuild registry import', r.output)} CACHED`);
        rmSync(fresh, { recursive: true, force: true });

        await sh('node', [cli, '--root', fresh, 'load', '-i', baseTar]);
        await settle();
        r = await tsbuild(fresh, ['build', '--progress', 'plain', '--network', 'host', '--cache-from', inlineRef, ctx]);
        record('import', 'tsbuild-inline', r, `  ${expectCached('tsbuild inline import', r.output)} CACHED`);
        rmSync(fresh, { recursive: true, force: true });

        const dockerB = await startDockerd(join(work, `docker-b-${round}`));
        try {
          await dockerB.docker(['load', '-i', baseTar]);
          await settle();
          r = await dockerBuild(dockerB, ['--cache-from', bkRef, '-t', 'bench/imported']);
          record('import', 'buildkit', r, `  ${expectCached('BuildKit inline import', r.output)} CACHED`);
        } finally {
          await dockerB.stop();
        }
      } finally {
        await reg.stop();
        rmSync(storeA, { recursive: true, force: true });
      }
    }
  } finally {
    await dockerA.stop();
  }

  const cell = (row: string, tool: string) => {
    const xs = results[row]?.[tool] ?? [];
    return `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
  };
  const ratio = (row: string, a: string, b: string) => (median(results[row]![a]!) / median(results[row]![b]!)).toFixed(2);
  const sorted = [...loads].sort((a, b) => a - b);
  console.log(`\nmedians of ${rounds} rounds, ms (min–max); ratios tsbuild / BuildKit (< 1: tsbuild faster)`);
  console.log(`export-first      tsbuild registry,max ${cell('export-first', 'tsbuild')}   BuildKit inline+push ${cell('export-first', 'buildkit')}   ratio ${ratio('export-first', 'tsbuild', 'buildkit')} (goal ≤ 0.5)`);
  console.log(`export-unchanged  tsbuild registry,max ${cell('export-unchanged', 'tsbuild')}   BuildKit inline+push ${cell('export-unchanged', 'buildkit')}   ratio ${ratio('export-unchanged', 'tsbuild', 'buildkit')} (goal ≤ 0.5)`);
  console.log(`no-op rebuild     tsbuild (no --cache-to) ${cell('noop-build', 'tsbuild')}   BuildKit (inline arg) ${cell('noop-build', 'buildkit')}   BuildKit's push alone: first ${cell('export-first-push', 'buildkit')}, unchanged ${cell('export-unchanged-push', 'buildkit')}`);
  console.log(`import            tsbuild registry ${cell('import', 'tsbuild')}   tsbuild inline ${cell('import', 'tsbuild-inline')}   BuildKit inline ${cell('import', 'buildkit')}   ratios ${ratio('import', 'tsbuild', 'buildkit')} / ${ratio('import', 'tsbuild-inline', 'buildkit')} (goal ≤ 1)`);
  console.log(`tsbuild peak RSS: max ${(Math.max(...rss) / 1024).toFixed(0)} MiB (goal ≤ 150)`);
  console.log(`1-min load average at each measurement: min ${sorted[0]!.toFixed(2)} / median ${median(sorted).toFixed(2)} / max ${sorted[sorted.length - 1]!.toFixed(2)}`);
  console.error(`end ${new Date().toISOString()}`);
}

main().then(
  () => { rmSync(work, { recursive: true, force: true }); process.exit(0); },
  (err: unknown) => { console.error(err); rmSync(work, { recursive: true, force: true }); process.exit(1); },
);
