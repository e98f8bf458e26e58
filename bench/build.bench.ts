/**
 * Issue 5: tsbuild vs BuildKit (dockerd's, `DOCKER_BUILDKIT=1 docker build --network=host`)
 * vs buildah, in the same run, on the same Dockerfiles and base images.
 *
 *   npx tsx --conditions=tsbuild-source bench/build.bench.ts [--rounds N] [--only BUILDER]
 *       [--scenarios a,b,…] [--no-wait] [--live-cli]
 *
 * Scenarios (each builder gets the same sequence; groups run in this order):
 *   multistage   cold build of 4 independent stages (RUN work each) + a final stage COPYing from all 4
 *   copy20k      cold `COPY files /files` of a 20,000-file context (200 dirs x 100 small files)
 *   noop         the same build again, nothing changed (everything cached)
 *   onefile      one of the 20,000 files' content changed: the COPY reruns (must be a new image)
 *   big          cold COPY of one 500 MiB file (random bytes, so incompressible)
 *   debian       cold build on debian:bookworm: `apt-get update && apt-get install tree`, COPY, RUN
 *   (noop and onefile run only together with copy20k: they rebuild its image)
 *
 * Goals (issue 5): every tsbuild/BuildKit time ratio <= 1.0, noop <= 0.5, tsbuild's
 * peak RSS < 300 MB. The table's ratios are **tsbuild time / other builder's
 * time: < 1 means tsbuild is faster** (the issue's direction). Peak RSS is GNU
 * `/usr/bin/time -f %M` around tsbuild's `build` process (the largest process
 * of the tree, which is the node process: its worker threads included, RUN
 * containers are separate, smaller processes); max over rounds.
 *
 * The root filesystem here is ext4 without a journal: creating many files soon
 * after deleting many is several times slower, so before each cold copy20k run
 * (whose reset deleted the previous builder's 20,000 files) the bench runs
 * `sync` and waits 65 s; before the other cold runs it runs `sync` and waits
 * 10 s (`--no-wait` skips the waits: numbers then mean little). Builders
 * interleave within a round (order rotating per round); every build is verified
 * untimed (the tag exists and names what `-q` printed). The tsbuild CLI is a
 * copy of cli/dist/bundle taken at start (bench/results/, gitignored), so a
 * rebundle by someone else mid-run can't change or break it (`--live-cli` runs
 * cli/bin instead). Builder flags (buildah: overlay, runc, --jobs 4) and the
 * cache resets are in bench/builders.ts; results in docs/BENCHMARKS.md.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomFillSync } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const argv = process.argv.slice(2);
const opt = (name: string) => { const i = argv.indexOf(name); return i >= 0 ? argv[i + 1] : undefined; };
const rounds = Number(opt('--rounds') ?? 3);
const only = opt('--only');
const wait = !argv.includes('--no-wait');
const ALL = ['multistage', 'copy20k', 'noop', 'onefile', 'big', 'debian'] as const;
const picked = new Set((opt('--scenarios') ?? ALL.join(',')).split(',').map((s) => s.trim()).filter(Boolean));
for (const s of picked) if (!(ALL as readonly string[]).includes(s)) throw new Error(`unknown scenario ${s}; known: ${ALL.join(', ')}`);
if ((picked.has('noop') || picked.has('onefile')) && !picked.has('copy20k')) picked.add('copy20k');
const repo = resolve(import.meta.dirname, '..');

// A frozen copy of the CLI bundle, inside the repository so its bare imports
// (zstd-napi, fs-xattr) resolve from node_modules; set before builders.ts loads.
function snapshotCli(): string | undefined {
  if (argv.includes('--live-cli')) return undefined;
  const bundle = join(repo, 'cli/dist/bundle');
  const entry = join(bundle, 'tsbuild.js');
  const b = statSync(entry, { throwIfNoEntry: false })?.mtimeMs;
  const fresh = b !== undefined && ['core', 'store', 'runtime', 'registry-client', 'builder', 'server', 'cli']
    .every((p) => (statSync(join(repo, p, 'dist/.tsbuildinfo'), { throwIfNoEntry: false })?.mtimeMs ?? 0) <= b);
  if (!fresh) { console.error('cli bundle missing or stale: running cli/bin/tsbuild.js live'); return undefined; }
  const dir = join(repo, 'bench/results', `cli-snapshot-${process.pid}`);
  cpSync(bundle, join(dir, 'bundle'), { recursive: true, filter: (src) => !src.endsWith('.v8-cache') });
  cpSync(join(repo, 'cli/bin/bundle-loader.cjs'), join(dir, 'bundle-loader.cjs'));
  // As cli/bin/tsbuild.js runs it: an executable whose sh prologue defers NODE_EXTRA_CA_CERTS, then the
  // bundle through a code cache per command (made by the first run of each), so the same start-up is measured.
  const launcher = readFileSync(join(repo, 'cli/bin/tsbuild.js'), 'utf8');
  writeFileSync(join(dir, 'tsbuild.mjs'), [
    launcher.slice(0, launcher.indexOf('*/\n') + 3).trimEnd(),
    "import { createRequire } from 'node:module';",
    'const args = process.argv.slice(2);',
    "const variant = args.find((a, i) => !a.startsWith('-') && args[i - 1] !== '--root');",
    "const { main } = createRequire(import.meta.url)('./bundle-loader.cjs').loadBundle(new URL('./bundle/tsbuild.js', import.meta.url).pathname, { variant });",
    'process.exitCode = await main(args);', '',
  ].join('\n'), { mode: 0o755 });
  console.error(`tsbuild CLI: snapshot of cli/dist/bundle (mtime ${new Date(b!).toISOString()}) in ${dir}`);
  return dir;
}
const snapshot = snapshotCli();
if (snapshot) process.env.TSBUILD_BENCH_CLI = join(snapshot, 'tsbuild.mjs');
const { buildahBuilder, buildkitBuilder, cli, digestIn, makeBaseImage, sh, tsbuildBuilder } = await import('./builders.js');
type Builder = ReturnType<typeof tsbuildBuilder>;

const work = mkdtempSync(join(tmpdir(), 'tsbuild-bench-'));
async function settle(seconds: number): Promise<void> {
  await run('sync');
  if (wait) await new Promise((r) => setTimeout(r, seconds * 1000));
}

function writeContexts(): Record<'multistage' | 'many' | 'big' | 'debian', string> {
  const ctx = (name: string) => { const d = join(work, 'ctx', name); mkdirSync(d, { recursive: true }); return d; };
  const multistage = ctx('multistage');
  const stage = (i: number) =>
    `FROM busybox:latest AS s${i}\nRUN sleep 1 && seq 1 200000 > /out && i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; echo ${i} >> /out\n`;
  writeFileSync(join(multistage, 'Dockerfile'),
    [0, 1, 2, 3].map(stage).join('') + 'FROM busybox:latest\n' + [0, 1, 2, 3].map((i) => `COPY --from=s${i} /out /out-${i}\n`).join('') +
    'CMD ["wc", "-l", "/out-0", "/out-1", "/out-2", "/out-3"]\n');
  const many = ctx('many');
  writeFileSync(join(many, 'Dockerfile'), 'FROM busybox:latest\nCOPY files /files\n');
  mkdirSync(join(many, 'files'));
  for (let d = 0; d < 200; d++) {
    mkdirSync(join(many, 'files', `d${d}`));
    for (let f = 0; f < 100; f++) writeFileSync(join(many, 'files', `d${d}`, `f${f}`), `${d}/${f}\n`);
  }
  const big = ctx('big');
  writeFileSync(join(big, 'Dockerfile'), 'FROM busybox:latest\nCOPY big.bin /big.bin\n');
  const fd = openSync(join(big, 'big.bin'), 'w');
  const chunk = Buffer.alloc(8 << 20);
  for (let i = 0; i < 500 / 8; i++) writeSync(fd, randomFillSync(chunk));
  writeSync(fd, randomFillSync(Buffer.alloc((500 % 8) << 20)));
  closeSync(fd);
  const debian = ctx('debian');
  writeFileSync(join(debian, 'Dockerfile'),
    'FROM debian:bookworm\n' +
    'RUN apt-get update && apt-get install -y --no-install-recommends tree && rm -rf /var/lib/apt/lists/*\n' +
    'COPY app /app\n' +
    'RUN tree /app > /app/listing && wc -l /app/listing\n' +
    'CMD ["cat", "/app/listing"]\n');
  mkdirSync(join(debian, 'app', 'lib'), { recursive: true });
  writeFileSync(join(debian, 'app', 'main.sh'), '#!/bin/sh\necho hello from the app\n');
  for (let i = 0; i < 20; i++) writeFileSync(join(debian, 'app', 'lib', `mod${i}.sh`), `echo module ${i}\n`);
  return { multistage, many, big, debian };
}

/** Times one build, then (untimed) checks that the tag exists and is what the build printed. */
async function timed(b: Builder, context: string, tag: string): Promise<{ ms: number; id: string; rss?: number }> {
  const t = process.hrtime.bigint();
  const printed = await b.build(context, tag);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const rss = b.lastPeakRssKb?.();
  await b.verify(tag, printed);
  return { ms, id: digestIn(printed), rss };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const loads: number[] = [];

async function main(): Promise<void> {
  const head = (await sh('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'])).trim();
  const dirty = (await sh('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=no'])).split('\n').filter(Boolean).length;
  console.error(`start ${new Date().toISOString()}, commit ${head}${dirty ? ` (+${dirty} modified tracked files in the checkout)` : ''}, cli ${cli}`);
  const loadTimer = setInterval(() => loads.push(loadavg()[0]!), 10_000);
  const base = await makeBaseImage(work);
  const extraTars: string[] = [];
  if (picked.has('debian')) {
    const seed = join(work, 'seed');
    await sh('bash', [join(repo, 'scripts/make-debian-base.sh'), seed, 'debian:bookworm'], { ...process.env, TSBUILD_CLI: `node ${cli}` });
    const tar = join(work, 'debian.tar');
    await sh('node', [cli, '--root', seed, 'save', '--format', 'docker', '-o', tar, 'debian:bookworm']);
    extraTars.push(tar);
  }
  const ctx = writeContexts();
  const opts = { work, ...base, extraTars, tags: ['bench/multistage', 'bench/many', 'bench/big', 'bench/debian'] };
  const builders = [tsbuildBuilder(opts), buildkitBuilder(opts), buildahBuilder(opts)].filter((b) => !only || b.name === only);
  const results: Record<string, Record<string, number[]>> = {};
  const rss: Record<string, number> = {};
  const record = (b: string, s: string, r: { ms: number; rss?: number }) => {
    ((results[s] ??= {})[b] ??= []).push(r.ms);
    if (r.rss !== undefined) rss[s] = Math.max(rss[s] ?? 0, r.rss);
    console.error(`  ${b.padEnd(9)} ${s.padEnd(11)} ${r.ms.toFixed(0).padStart(7)} ms${r.rss !== undefined ? `  peak RSS ${(r.rss / 1024).toFixed(0)} MiB` : ''}  load ${loadavg()[0]!.toFixed(2)}`);
  };
  const names = builders.map((b) => b.name);
  const table = (done: number) => {
    const lines = [`\nmedian of ${done} round(s), ms; ratios = tsbuild time / other's time (< 1: tsbuild faster)${wait ? '' : ' (--no-wait: indicative only)'}`];
    lines.push(['scenario', ...names, 'tsbuild/buildkit', 'tsbuild/buildah', 'tsbuild peak RSS'].map((s) => s.padEnd(17)).join(''));
    for (const s of ALL) {
      const byBuilder = results[s];
      if (!byBuilder) continue;
      const m = (n: string) => (byBuilder[n] ? median(byBuilder[n]!) : NaN);
      const ratio = (n: string) => (m('tsbuild') / m(n)).toFixed(2);
      lines.push([s, ...names.map((n) => m(n).toFixed(0)), ratio('buildkit'), ratio('buildah'), rss[s] ? `${(rss[s]! / 1024).toFixed(0)} MiB` : '-']
        .map((x) => x.padEnd(17)).join(''));
    }
    lines.push('\nall samples, ms (in round order)');
    for (const s of ALL) {
      const byBuilder = results[s];
      if (byBuilder) lines.push(`${s.padEnd(12)}${names.map((n) => `${n}: ${(byBuilder[n] ?? []).map((x) => x.toFixed(0)).join(' ')}`).join('   ')}`);
    }
    const sorted = [...loads].sort((a, b) => a - b);
    if (sorted.length) lines.push(`1-min load average (every 10 s): min ${sorted[0]!.toFixed(2)} / median ${median(sorted).toFixed(2)} / max ${sorted[sorted.length - 1]!.toFixed(2)}`);
    console.log(lines.join('\n'));
  };
  const started: Builder[] = [];
  try {
    for (const b of builders) {
      await b.setup();
      started.push(b);
    }
    for (let r = 0; r < rounds; r++) {
      const order = builders.map((_, i) => builders[(i + r) % builders.length]!);
      console.error(`round ${r + 1}/${rounds}: ${order.map((b) => b.name).join(', ')}  ${new Date().toISOString()}`);
      if (picked.has('copy20k')) {
        for (const b of order) {
          await b.reset();
          writeFileSync(join(ctx.many, 'files/d7/f7'), '7/7\n');
          await settle(65);
          const cold = await timed(b, ctx.many, 'bench/many');
          record(b.name, 'copy20k', cold);
          if (picked.has('noop')) {
            const noop = await timed(b, ctx.many, 'bench/many');
            if (noop.id !== cold.id) throw new Error(`${b.name}: the no-op rebuild produced ${noop.id}, not ${cold.id}`);
            record(b.name, 'noop', noop);
          }
          if (picked.has('onefile')) {
            writeFileSync(join(ctx.many, 'files/d7/f7'), `7/7 changed in round ${r + 1}\n`);
            const edit = await timed(b, ctx.many, 'bench/many');
            if (edit.id === cold.id) throw new Error(`${b.name}: the one-file change produced the unchanged image ${edit.id}`);
            record(b.name, 'onefile', edit);
          }
        }
      }
      const cold = async (scenario: string, context: string, tag: string) => {
        if (!picked.has(scenario)) return;
        for (const b of order) {
          await b.reset();
          await settle(10);
          record(b.name, scenario, await timed(b, context, tag));
        }
      };
      await cold('big', ctx.big, 'bench/big');
      await cold('multistage', ctx.multistage, 'bench/multistage');
      await cold('debian', ctx.debian, 'bench/debian');
      table(r + 1);
    }
  } finally {
    clearInterval(loadTimer);
    for (const b of started) await b.teardown().catch((e) => console.error(e));
  }
  console.error(`end ${new Date().toISOString()}`);
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    rmSync(work, { recursive: true, force: true });
    if (snapshot) rmSync(snapshot, { recursive: true, force: true });
  });
