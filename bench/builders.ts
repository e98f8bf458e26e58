/**
 * The builders the benchmarks compare, behind one interface: tsbuild (the
 * compiled CLI), BuildKit (a private dockerd from Debian's docker.io, driven by
 * `DOCKER_BUILDKIT=1 /usr/bin/docker build --network=host`) and buildah (its own
 * root and runroot). Each build is checked afterwards (untimed): the tag must
 * exist and name what `build -q` printed, so a failing builder can't look fast.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeBusyboxRootfs } from '../test/support/fixtures.js';
import { startDockerd, type Dockerd } from '../test/support/dockerd.js';

const repo = resolve(import.meta.dirname, '..');
/** The tsbuild CLI the benches run: $TSBUILD_BENCH_CLI (build.bench.ts points it at a snapshot of the bundle), else cli/bin. */
export const cli = process.env.TSBUILD_BENCH_CLI ?? join(repo, 'cli/bin/tsbuild.js');
/** GNU time, for the peak RSS of tsbuild's build process (`-f %M`: max RSS of the largest process in the tree, KiB). */
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

export interface Builder {
  name: string;
  setup(): Promise<void>;
  /** Empties the builder's cache and removes the bench tags (not its base image). */
  reset(): Promise<void>;
  /** Builds; resolves to what `build -q` printed (an image id or manifest digest). */
  build(context: string, tag: string): Promise<string>;
  /** Untimed, after each build: the tag must exist and name what the build printed. */
  verify(tag: string, printed: string): Promise<void>;
  teardown(): Promise<void>;
  /** Peak RSS (KiB) of the last build's process, where the builder measures it (tsbuild only). */
  lastPeakRssKb?: () => number | undefined;
}

/** Runs a command; resolves to its trimmed stdout, rejects with the end of its stderr. */
export function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((ok, fail) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c) => (out += c));
    p.stderr.on('data', (c) => (err = (err + c).slice(-4000)));
    p.on('error', fail);
    p.on('close', (code) => (code === 0 ? ok(out.trim()) : fail(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

/** The last sha256 digest in a builder's -q output (buildah prints it without the sha256: prefix). */
export function digestIn(out: string): string {
  const m = out.match(/(?:sha256:)?[0-9a-f]{64}/g);
  if (!m) throw new Error(`no image digest in build output: ${JSON.stringify(out.slice(-300))}`);
  const d = m[m.length - 1]!;
  return d.startsWith('sha256:') ? d : `sha256:${d}`;
}

function expectSame(builder: string, tag: string, printed: string, found: string[]): void {
  if (!found.includes(digestIn(printed))) throw new Error(`${builder}: ${tag} is ${found.join('/')} after the build, which printed ${printed}`);
}

/** The busybox base image: a rootfs dir (for tsbuild import) and a docker-archive tar (for dockerd and buildah). */
export async function makeBaseImage(work: string): Promise<{ rootfs: string; baseTar: string }> {
  const rootfs = join(work, 'rootfs');
  const baseTar = join(work, 'busybox.tar');
  makeBusyboxRootfs(rootfs);
  await sh('node', [cli, '--root', join(work, 'seed'), 'import', rootfs, '-t', 'busybox:latest']);
  await sh('node', [cli, '--root', join(work, 'seed'), 'save', '--format', 'docker', '-o', baseTar, 'busybox:latest']);
  return { rootfs, baseTar };
}

export interface BuilderOptions {
  work: string;
  rootfs: string;
  baseTar: string;
  /** Tags reset() removes. */
  tags: string[];
  /** More base images as docker archives (e.g. debian:bookworm), loaded by every builder in setup() and kept by reset(). */
  extraTars?: string[];
}

export function tsbuildBuilder({ work, rootfs, tags, extraTars = [] }: BuilderOptions): Builder {
  const root = join(work, 'tsbuild-root');
  const rssFile = join(mkdtempSync(join(work, 'rss-')), 'maxrss');
  let peak: number | undefined;
  return {
    name: 'tsbuild',
    async setup() {
      await sh('node', [cli, '--root', root, 'import', rootfs, '-t', 'busybox:latest']);
      for (const tar of extraTars) await sh('node', [cli, '--root', root, 'load', '-i', tar]);
    },
    async reset() {
      await sh('sh', ['-c', `node ${cli} --root ${root} rmi ${tags.join(' ')} >/dev/null 2>&1; true`]);
      rmSync(join(root, 'cache'), { recursive: true, force: true });
      await sh('node', [cli, '--root', root, 'prune', '--grace', '0']);
    },
    async build(context, tag) {
      // The executable itself, as a CI job runs `tsbuild build` (its sh prologue execs node: one process).
      const args = ['--root', root, 'build', '-q', '--network', 'host', '-t', tag, context];
      if (!gnuTime) return sh(cli, args);
      rmSync(rssFile, { force: true });
      const out = await sh(gnuTime, ['-f', '%M', '-o', rssFile, cli, ...args]);
      peak = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
      return out;
    },
    lastPeakRssKb: () => peak,
    async verify(tag, printed) {
      const [img] = JSON.parse(await sh('node', [cli, '--root', root, 'inspect', tag])) as { Id: string; Digest: string }[];
      expectSame('tsbuild', tag, printed, [img!.Id, img!.Digest]);
    },
    async teardown() {},
  };
}

export function buildkitBuilder({ work, baseTar, tags, extraTars = [] }: BuilderOptions): Builder {
  let dockerd: Dockerd;
  const env = () => ({ ...process.env, DOCKER_BUILDKIT: '1', DOCKER_HOST: dockerd.host });
  return {
    name: 'buildkit',
    async setup() {
      dockerd = await startDockerd(join(work, 'docker'));
      for (const tar of [baseTar, ...extraTars]) await dockerd.docker(['load', '-i', tar]);
    },
    async reset() {
      await dockerd.docker(['rmi', '-f', ...tags]).catch(() => {});
      await dockerd.docker(['builder', 'prune', '-af']);
    },
    build: (context, tag) => sh('/usr/bin/docker', ['build', '-q', '--network=host', '-t', tag, context], env()),
    async verify(tag, printed) {
      const { stdout } = await dockerd.docker(['image', 'inspect', '-f', '{{.Id}}', tag]);
      expectSame('buildkit', tag, printed, [stdout.trim()]);
    },
    async teardown() {
      await dockerd?.stop();
    },
  };
}

export function buildahBuilder({ work, baseTar, extraTars = [] }: BuilderOptions): Builder {
  const root = join(work, 'buildah-root');
  const runroot = join(work, 'buildah-run');
  // overlay (kernel overlayfs, root): vfs would copy the whole rootfs per step.
  const g = ['--root', root, '--runroot', runroot, '--storage-driver', 'overlay'];
  const baseIds = new Set<string>();
  return {
    name: 'buildah',
    async setup() {
      for (const tar of [baseTar, ...extraTars]) await sh('buildah', [...g, 'pull', `docker-archive:${tar}`]);
      const ids = await sh('buildah', [...g, 'images', '--noheading', '--no-trunc', '--format', '{{.ID}}']);
      for (const id of ids.split('\n').map((l) => l.trim()).filter(Boolean)) baseIds.add(id);
    },
    async reset() {
      // Every container, then every image but the base (intermediate --layers images included).
      await sh('buildah', [...g, 'rm', '--all']);
      const ids = (await sh('buildah', [...g, 'images', '--all', '--noheading', '--no-trunc', '--format', '{{.ID}}']))
        .split('\n').map((l) => l.trim()).filter((id) => id && !baseIds.has(id));
      if (ids.length) await sh('buildah', [...g, 'rmi', '--force', ...new Set(ids)]);
    },
    // OCI isolation with runc: this host has hybrid cgroups (v1 controllers + an
    // empty v2 hierarchy), where buildah's default crun refuses to create a
    // container ("cgroups in hybrid mode not supported"); runc runs there, as
    // under dockerd. (--isolation chroot works too but is not a container.)
    build: (context, tag) => sh('buildah', [...g, 'bud', '--runtime', 'runc', '--layers', '--jobs', '4', '--pull=never', '--network=host', '-q', '-t', tag, context]),
    async verify(tag, printed) {
      const id = await sh('buildah', [...g, 'images', '--noheading', '--no-trunc', '--format', '{{.ID}}', tag]);
      expectSame('buildah', tag, printed, [digestIn(id)]);
    },
    async teardown() {
      await sh('sh', ['-c', `grep -o " ${work}[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l; true`]);
    },
  };
}
