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
 * BuildKit/tsbuild and buildah/tsbuild (> 1 means tsbuild is faster).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { makeBusyboxRootfs } from '../test/support/fixtures.js';
import { startDockerd, type Dockerd } from '../test/support/dockerd.js';

const run = promisify(execFile);
const argv = process.argv.slice(2);
const opt = (name: string) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const rounds = Number(opt('--rounds') ?? 3);
const only = opt('--only');
const wait = !argv.includes('--no-wait');
const repo = resolve(import.meta.dirname, '..');
const cli = join(repo, 'cli/bin/tsbuild.js');

interface Builder {
  name: string;
  setup(): Promise<void>;
  /** Empties the builder's cache (not its base image). */
  reset(): Promise<void>;
  build(context: string, tag: string): Promise<void>;
  teardown(): Promise<void>;
}

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c) => (err = (err + c).slice(-4000)));
    p.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

const work = mkdtempSync(join(tmpdir(), 'tsbuild-bench-'));
const baseTar = join(work, 'busybox.tar');

function tsbuildBuilder(): Builder {
  const root = join(work, 'tsbuild-root');
  return {
    name: 'tsbuild',
    async setup() {
      await sh('node', [cli, '--root', root, 'import', join(work, 'rootfs'), '-t', 'busybox:latest']);
    },
    async reset() {
      rmSync(join(root, 'cache'), { recursive: true, force: true });
      await sh('node', [cli, '--root', root, 'prune', '--grace', '0']);
    },
    build: (context, tag) => sh('node', [cli, '--root', root, 'build', '-q', '-t', tag, context]),
    async teardown() {},
  };
}

function buildkitBuilder(): Builder {
  let dockerd: Dockerd;
  const env = () => ({ ...process.env, DOCKER_BUILDKIT: '1', DOCKER_HOST: dockerd.host });
  return {
    name: 'buildkit',
    async setup() {
      dockerd = await startDockerd(join(work, 'docker'));
      await dockerd.docker(['load', '-i', baseTar]);
    },
    async reset() {
      await dockerd.docker(['builder', 'prune', '-af']);
    },
    build: (context, tag) => sh('/usr/bin/docker', ['build', '-q', '--network=host', '-t', tag, context], env()),
    async teardown() {
      await dockerd?.stop();
    },
  };
}

function buildahBuilder(): Builder {
  const root = join(work, 'buildah-root');
  const runroot = join(work, 'buildah-run');
  const g = ['--root', root, '--runroot', runroot, '--storage-driver', 'overlay'];
  return {
    name: 'buildah',
    async setup() {
      await sh('buildah', [...g, 'pull', `docker-archive:${baseTar}`]);
    },
    async reset() {
      await sh('sh', ['-c', `buildah ${g.join(' ')} images -q --filter dangling=true | xargs -r buildah ${g.join(' ')} rmi -f >/dev/null 2>&1; buildah ${g.join(' ')} rm -a >/dev/null 2>&1; true`]);
    },
    build: (context, tag) => sh('buildah', [...g, 'bud', '--layers', '--pull=never', '--network=host', '-q', '-t', tag, context]),
    async teardown() {
      await sh('sh', ['-c', `grep -o " ${work}[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l; true`]);
    },
  };
}

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

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  makeBusyboxRootfs(join(work, 'rootfs'));
  const ctx = writeContexts();
  const builders = [tsbuildBuilder(), buildkitBuilder(), buildahBuilder()].filter((b) => !only || b.name === only);
  await sh('node', [cli, '--root', join(work, 'seed'), 'import', join(work, 'rootfs'), '-t', 'busybox:latest']);
  await sh('node', [cli, '--root', join(work, 'seed'), 'save', '--format', 'docker', '-o', baseTar, 'busybox:latest']);
  const results: Record<string, Record<string, number[]>> = {};
  const record = (b: string, s: string, ms: number) => ((results[s] ??= {})[b] ??= []).push(ms);
  for (const b of builders) {
    await b.setup();
    try {
      for (let r = 0; r < rounds; r++) {
        await b.reset();
        writeFileSync(join(ctx.app, 'app.txt'), 'version 1\n');
        await settle();
        record(b.name, 'cold', await timed(() => b.build(ctx.app, 'bench/app')));
        record(b.name, 'warm', await timed(() => b.build(ctx.app, 'bench/app')));
        writeFileSync(join(ctx.app, 'app.txt'), `version ${r + 2}\n`);
        record(b.name, 'edit', await timed(() => b.build(ctx.app, 'bench/app')));
        await b.reset();
        await settle();
        record(b.name, 'steps', await timed(() => b.build(ctx.steps, 'bench/steps')));
        await b.reset();
        await settle();
        record(b.name, 'context', await timed(() => b.build(ctx.many, 'bench/many')));
        const now = new Date();
        utimesSync(join(ctx.many, 'files/d0/f0'), now, now);
        record(b.name, 'context-touch', await timed(() => b.build(ctx.many, 'bench/many')));
      }
    } finally {
      await b.teardown();
    }
  }
  const names = builders.map((b) => b.name);
  console.log(`\nmedian of ${rounds} rounds, ms${wait ? '' : ' (--no-wait: numbers are indicative only)'}`);
  console.log(['scenario', ...names, 'buildkit/tsbuild', 'buildah/tsbuild'].map((s) => s.padEnd(16)).join(''));
  for (const [scenario, byBuilder] of Object.entries(results)) {
    const m = (n: string) => (byBuilder[n] ? median(byBuilder[n]!) : NaN);
    const ratio = (n: string) => (m(n) / m('tsbuild')).toFixed(2);
    console.log([scenario, ...names.map((n) => m(n).toFixed(0)), ratio('buildkit'), ratio('buildah')].map((s) => s.padEnd(16)).join(''));
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(work, { recursive: true, force: true }));
