/**
 * Push and pull through a local registry (Debian's docker-registry on
 * 127.0.0.1, plain HTTP): tsbuild against `docker push/pull` (a private
 * dockerd, test/support/dockerd.ts) and `skopeo copy`, in the same run,
 * interleaved round by round.
 *
 *   npx tsx --conditions=tsbuild-source bench/registry.bench.ts [--rounds 3]
 *
 * The image: 5 layers, `FROM debian:bookworm` (debootstrap minbase, made by
 * scripts/make-debian-base.sh as the build bench does) plus four COPY layers
 * of files taken from this machine's /usr (binaries and text, so they
 * compress as real layers do), ~120 MB uncompressed in all. Scenarios, each
 * against an empty registry started for it (untimed), so nothing is mounted
 * or skipped:
 *   push-first    tsbuild push from a store that just loaded the image (layers
 *                 uncompressed: it gzips them) vs docker push (which gzips)
 *   push-gz       tsbuild push again from that store (its gzip variants kept)
 *                 vs skopeo copy from an OCI layout holding the gzip'd image
 *   pull          tsbuild pull into an empty store, layers unpacked vs docker
 *                 pull after `docker rmi` of everything (download + extract)
 * and, in process, the pull with the layers unpacked after the download
 * (`pullToStore({ unpack: false })` then `unpackLayers`, the order before
 * unpack-while-downloading) against the streaming pull. Ratios are tsbuild
 * time / other's time (< 1: tsbuild faster); tsbuild's peak RSS is GNU
 * time's %M of the CLI process.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openStore, unpackLayers, resolveImage } from '@tsbuild/store';
import { RegistryClient } from '@tsbuild/registry-client';
import type { Digest } from '@tsbuild/core';
import { pullToStore } from 'tsbuild';
import { startDockerd } from '../test/support/dockerd.js';
import { startRegistry, type TestRegistry } from '../registry-client/test/support/registry.js';
import { cli, sh } from './builders.js';

const argv = process.argv.slice(2);
const rounds = Number(argv[argv.indexOf('--rounds') + 1] ?? 3) || 3;
const repo = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'tsbuild-registry-bench-'));
const IMAGE = 'bench/reg:1';

/** Copies regular files of `from` (depth first, sorted) into `to` until `bytes` are copied. */
function fillFrom(from: string, to: string, bytes: number): number {
  let copied = 0;
  const walk = (dir: string, rel: string): void => {
    let names: string[];
    try { names = readdirSync(dir).sort(); } catch { return; }
    for (const name of names) {
      if (copied >= bytes) return;
      const path = join(dir, name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(path, join(rel, name));
      else if (st.isFile() && st.size > 0 && st.size < 8 << 20) {
        mkdirSync(join(to, rel), { recursive: true });
        cpSync(path, join(to, rel, name));
        copied += st.size;
      }
    }
  };
  walk(from, '');
  return copied;
}

/** Runs a command and times it; with `rss`, under GNU time and returns the peak RSS (KiB). */
function timed(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; rss?: boolean } = {}): Promise<{ ms: number; rssKb?: number }> {
  const [file, argl] = options.rss ? ['/usr/bin/time', ['-f', 'RSS %M', cmd, ...args]] : [cmd, args];
  return new Promise((ok, fail) => {
    const t = process.hrtime.bigint();
    const p = spawn(file, argl, { env: options.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c) => (err = (err + c).slice(-4000)));
    p.on('error', fail);
    p.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      if (code !== 0) { fail(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`)); return; }
      const m = /RSS (\d+)\s*$/.exec(err);
      ok(m ? { ms, rssKb: Number(m[1]) } : { ms });
    });
  });
}

const tsbuild = (root: string, ...args: string[]) => sh('node', [cli, '--root', root, ...args]);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function withRegistry<T>(fn: (reg: TestRegistry) => Promise<T>): Promise<T> {
  const reg = await startRegistry();
  try { return await fn(reg); } finally { await reg.stop(); }
}

async function main(): Promise<void> {
  const head = await sh('git', ['-C', repo, 'rev-parse', '--short', 'HEAD']);
  console.error(`start ${new Date().toISOString()}, commit ${head}, cli ${cli}, work ${work}`);

  // The image, built once into the seed store and saved as a docker archive.
  const seed = join(work, 'seed');
  await sh('bash', [join(repo, 'scripts/make-debian-base.sh'), seed, 'debian:bookworm'], { ...process.env, TSBUILD_CLI: `node ${cli}` });
  const context = join(work, 'context');
  const sources = ['/usr/lib/x86_64-linux-gnu', '/usr/share/doc', '/usr/lib/python3', '/usr/share/locale'];
  let extra = 0;
  sources.forEach((src, i) => { extra += fillFrom(src, join(context, `l${i}`), 5 << 19); });
  writeFileSync(join(context, 'Dockerfile'), ['FROM debian:bookworm', ...sources.map((_, i) => `COPY l${i} /opt/l${i}`)].join('\n') + '\n');
  await tsbuild(seed, 'build', '-q', '-t', IMAGE, context);
  const archive = join(work, 'image.tar');
  await tsbuild(seed, 'save', '--format', 'docker', '-o', archive, IMAGE);
  const inspect = JSON.parse(await tsbuild(seed, 'inspect', IMAGE))[0];
  console.error(`image: ${inspect.Manifest.layers.length} layers, ${(inspect.Size / 1e6).toFixed(1)} MB as stored (the COPY layers ${(extra / 1e6).toFixed(1)} MB of files)`);

  const dockerd = await startDockerd(join(work, 'docker'));
  const docker = (...args: string[]) => dockerd.docker(args);
  const dockerEnv = { ...process.env, DOCKER_HOST: dockerd.host };
  const results: Record<string, Record<string, number[]>> = {};
  const rss: number[] = [];
  const record = (scenario: string, tool: string, r: { ms: number; rssKb?: number }) => {
    ((results[scenario] ??= {})[tool] ??= []).push(r.ms);
    if (r.rssKb) rss.push(r.rssKb);
    console.error(`  ${scenario.padEnd(12)} ${tool.padEnd(16)} ${r.ms.toFixed(0).padStart(7)} ms${r.rssKb ? `  peak RSS ${(r.rssKb / 1024).toFixed(0)} MiB` : ''}  load ${loadavg()[0]!.toFixed(2)}`);
  };

  // An OCI layout with the image's gzip'd layers (skopeo's source) and a registry holding the image (the pulls' source).
  const layout = join(work, 'layout');
  const source = await startRegistry();
  try {
    const prep = join(work, 'prep');
    await tsbuild(prep, 'load', '-i', archive, '--no-unpack');
    await tsbuild(prep, 'tag', IMAGE, `${source.host}/bench/reg:1`);
    await tsbuild(prep, 'push', `${source.host}/bench/reg:1`);
    await sh('skopeo', ['copy', '--src-tls-verify=false', `docker://${source.host}/bench/reg:1`, `oci:${layout}:1`]);
    const ref = `${source.host}/bench/reg:1`;

    for (let round = 1; round <= rounds; round++) {
      console.error(`round ${round}/${rounds}`);
      const root = join(work, `push-${round}`);
      await tsbuild(root, 'load', '-i', archive, '--no-unpack');
      await withRegistry(async (reg) => {
        await tsbuild(root, 'tag', IMAGE, `${reg.host}/bench/app:1`);
        record('push-first', 'tsbuild', await timed('node', [cli, '--root', root, 'push', `${reg.host}/bench/app:1`], { rss: true }));
      });
      await docker('load', '-i', archive);
      await withRegistry(async (reg) => {
        await docker('tag', IMAGE, `${reg.host}/bench/app:1`);
        record('push-first', 'docker', await timed('/usr/bin/docker', ['push', `${reg.host}/bench/app:1`], { env: dockerEnv }));
      });
      await withRegistry(async (reg) => {
        await tsbuild(root, 'tag', IMAGE, `${reg.host}/bench/app:1`);
        record('push-gz', 'tsbuild', await timed('node', [cli, '--root', root, 'push', `${reg.host}/bench/app:1`], { rss: true }));
      });
      await withRegistry(async (reg) => {
        record('push-gz', 'skopeo', await timed('skopeo', ['copy', '--dest-tls-verify=false', `oci:${layout}:1`, `docker://${reg.host}/bench/app:1`]));
      });
      rmSync(root, { recursive: true, force: true });

      const pulled = join(work, `pull-${round}`);
      await sh('sync', []);
      record('pull', 'tsbuild', await timed('node', [cli, '--root', pulled, 'pull', ref], { rss: true }));
      await tsbuild(pulled, 'rmi', ref).catch(() => undefined);
      rmSync(pulled, { recursive: true, force: true });
      const images = (await docker('images', '-q')).stdout.split('\n').filter(Boolean);
      if (images.length) await docker('rmi', '-f', ...new Set(images));
      await sh('sync', []);
      record('pull', 'docker', await timed('/usr/bin/docker', ['pull', ref], { env: dockerEnv }));
      await docker('rmi', '-f', ref);

      // In process: unpack after the download (before) vs while downloading (now).
      for (const mode of ['unpack-after', 'streaming'] as const) {
        const root2 = join(work, `inproc-${round}-${mode}`);
        const store = await openStore({ root: root2 });
        const client = new RegistryClient({ credentials: async () => undefined });
        await sh('sync', []);
        const t = process.hrtime.bigint();
        const { descriptor } = await pullToStore(store, client, ref, { unpack: mode === 'streaming' });
        if (mode === 'unpack-after') {
          const image = await resolveImage(store.content, descriptor);
          await unpackLayers({ provider: store.content, snapshotter: await store.snapshotter(), layers: image.manifest.layers, diffIDs: image.config.rootfs.diff_ids as Digest[] });
        }
        record('pull-inproc', mode, { ms: Number(process.hrtime.bigint() - t) / 1e6 });
        await client.close();
        await tsbuild(root2, 'rmi', ref);
        rmSync(root2, { recursive: true, force: true });
      }
    }
  } finally {
    await source.stop();
    await dockerd.stop();
  }

  const row = (s: string, tool: string) => {
    const xs = results[s]?.[tool] ?? [];
    return `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
  };
  const ratio = (s: string, a: string, b: string) => (median(results[s]![a]!) / median(results[s]![b]!)).toFixed(2);
  console.log(`\nmedians of ${rounds} rounds, ms (min–max); ratios tsbuild / other (< 1: tsbuild faster)`);
  console.log(`push-first   tsbuild ${row('push-first', 'tsbuild')}   docker push ${row('push-first', 'docker')}   ratio ${ratio('push-first', 'tsbuild', 'docker')} (goal ≤ 0.5)`);
  console.log(`push-gz      tsbuild ${row('push-gz', 'tsbuild')}   skopeo copy ${row('push-gz', 'skopeo')}   ratio ${ratio('push-gz', 'tsbuild', 'skopeo')} (goal ≤ 1.2)`);
  console.log(`pull         tsbuild ${row('pull', 'tsbuild')}   docker pull ${row('pull', 'docker')}   ratio ${ratio('pull', 'tsbuild', 'docker')} (goal ≤ 0.5)`);
  console.log(`pull in-process: unpack after download ${row('pull-inproc', 'unpack-after')}, while downloading ${row('pull-inproc', 'streaming')}, ratio ${ratio('pull-inproc', 'streaming', 'unpack-after')}`);
  console.log(`tsbuild peak RSS: max ${(Math.max(...rss) / 1024).toFixed(0)} MiB (goal ≤ 150)`);
}

main().then(
  () => { rmSync(work, { recursive: true, force: true }); process.exit(0); },
  (err: unknown) => { console.error(err); rmSync(work, { recursive: true, force: true }); process.exit(1); },
);
