/**
 * Issue 17: a two-platform build (linux/amd64 + linux/arm64, arm64 RUN under
 * QEMU) against two single-platform builds, tsbuild and BuildKit (dockerd's,
 * `DOCKER_BUILDKIT=1 docker build --platform …`). `docker buildx` is not
 * installed here, so BuildKit does not build both platforms in one build:
 * its column is the sum of its two single-platform builds.
 *
 *   npx tsx --conditions=tsbuild-source bench/multi-platform.bench.ts [--rounds N] [--only tsbuild]
 *
 * Scenarios (cold: every builder's cache emptied before each build; base images kept):
 *   multistage  build.bench.ts's: 4 independent stages of RUN work + a final stage COPYing from all 4,
 *               every stage on the target platform (so the arm64 stages run under QEMU)
 *   cross       the same 4 stages on `--platform=$BUILDPLATFORM` (the cross-compilation pattern):
 *               a two-platform build runs them once, for both targets
 * Bases: busybox for amd64 (the host's) and for arm64 (Debian's busybox-static:arm64, fetched by setup),
 * tagged bb:amd64 / bb:arm64 and chosen by `FROM bb:$TARGETARCH` — undeclared: docker.io 20.10's BuildKit
 * leaves a meta `ARG TARGETARCH` without a value empty, where current BuildKit (dockerfile2llb/convert.go
 * buildMetaArgs) and tsbuild keep the platform's value.
 * Results: docs/BENCHMARKS.md, "Issue 17: multi-platform".
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, sh } from './builders.js';
import { makeBusyboxRootfs } from '../test/support/fixtures.js';
import { makeArm64BusyboxRootfs } from '../test/support/arm64-busybox.js';
import { startDockerd, type Dockerd } from '../test/support/dockerd.js';

const argv = process.argv.slice(2);
const rounds = Number(argv[argv.indexOf('--rounds') + 1] ?? 3) || 3;
const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1] : undefined;
const work = mkdtempSync(join(tmpdir(), 'tsbuild-bench-mp-'));

/** build.bench.ts's multistage work, writing /out-N. */
const stageWork = (n: number) => `RUN sleep 1 && seq 1 200000 > /out-${n} && i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; echo $i >> /out-${n}\n`;
function dockerfile(cross: boolean): string {
  const from = cross ? 'FROM --platform=$BUILDPLATFORM bb:amd64' : 'FROM bb:$TARGETARCH';
  const stages = [0, 1, 2, 3].map((i) => `${from} AS s${i}\n${stageWork(i)}`).join('');
  return `${stages}FROM bb:$TARGETARCH\n${[0, 1, 2, 3].map((i) => `COPY --from=s${i} /out-${i} /out-${i}\n`).join('')}`;
}

const tsbuildRoot = join(work, 'tsbuild');
const seed = join(work, 'seed');
const ts = (root: string, ...args: string[]) => sh('node', [cli, '--root', root, ...args]);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  await ts(seed, 'import', '--platform', 'linux/amd64', makeBusyboxRootfs(join(work, 'rootfs-amd64')), '-t', 'bb:amd64');
  await ts(seed, 'import', '--platform', 'linux/arm64', makeArm64BusyboxRootfs(join(work, 'rootfs-arm64')), '-t', 'bb:arm64');
  const tars = { amd64: join(work, 'bb-amd64.tar'), arm64: join(work, 'bb-arm64.tar') };
  for (const [arch, tar] of Object.entries(tars)) await ts(seed, 'save', '--format', 'docker', '-o', tar, `bb:${arch}`);
  const contexts: Record<string, string> = {};
  for (const name of ['multistage', 'cross']) {
    const dir = join(work, 'ctx', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), dockerfile(name === 'cross'));
    contexts[name] = dir;
  }

  const resetTsbuild = async () => {
    rmSync(tsbuildRoot, { recursive: true, force: true });
    for (const tar of Object.values(tars)) await ts(tsbuildRoot, 'load', '-i', tar);
  };
  let dockerd: Dockerd | undefined;
  const results: Array<{ scenario: string; builder: string; what: string; seconds: number[] }> = [];
  const record = (scenario: string, builder: string, what: string, s: number) => {
    let r = results.find((x) => x.scenario === scenario && x.builder === builder && x.what === what);
    if (!r) results.push((r = { scenario, builder, what, seconds: [] }));
    r.seconds.push(s);
  };
  try {
    if (only !== 'tsbuild') {
      dockerd = await startDockerd(join(work, 'docker'));
      for (const tar of Object.values(tars)) await dockerd.docker(['load', '-i', tar]);
    }
    const env = { ...process.env, DOCKER_BUILDKIT: '1', ...(dockerd ? { DOCKER_HOST: dockerd.host } : {}) };
    for (let round = 0; round < rounds; round++) {
      for (const [scenario, ctx] of Object.entries(contexts)) {
        for (const platform of ['linux/amd64', 'linux/arm64', 'linux/amd64,linux/arm64']) {
          await resetTsbuild();
          record(scenario, 'tsbuild', platform, await timed(() => ts(tsbuildRoot, 'build', '--offline', '-q', '--platform', platform, '-t', 'bench/mp', ctx)));
        }
        if (!dockerd) continue;
        for (const platform of ['linux/amd64', 'linux/arm64']) {
          await dockerd.docker(['builder', 'prune', '-af']);
          await dockerd.docker(['rmi', '-f', 'bench/mp']).catch(() => {});
          record(scenario, 'buildkit', platform, await timed(() => sh('/usr/bin/docker', ['build', '-q', '--network=host', '--platform', platform, '-t', 'bench/mp', ctx], env)));
        }
      }
    }
  } finally {
    await dockerd?.stop();
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`rounds: ${rounds} (median seconds)`);
  for (const scenario of Object.keys(contexts)) {
    const m = (builder: string, what: string) => median(results.find((r) => r.scenario === scenario && r.builder === builder && r.what === what)?.seconds ?? [NaN]);
    const tsSum = m('tsbuild', 'linux/amd64') + m('tsbuild', 'linux/arm64');
    const bkSum = m('buildkit', 'linux/amd64') + m('buildkit', 'linux/arm64');
    console.log(`${scenario}: tsbuild amd64 ${m('tsbuild', 'linux/amd64').toFixed(2)} + arm64 ${m('tsbuild', 'linux/arm64').toFixed(2)} = ${tsSum.toFixed(2)}; ` +
      `tsbuild two-platform ${m('tsbuild', 'linux/amd64,linux/arm64').toFixed(2)}; ` +
      `buildkit amd64 ${m('buildkit', 'linux/amd64').toFixed(2)} + arm64 ${m('buildkit', 'linux/arm64').toFixed(2)} = ${bkSum.toFixed(2)}`);
  }
}

await main();
