/**
 * Issue 13: a crash leaves nothing behind. Builds with RUN, secret mounts,
 * cache mounts and ADD of a .tar.gz are killed with SIGKILL at seeded random
 * moments — the whole process group (what a terminal's kill does), or only
 * the tsbuild process (its runtime and container live on), or a build started
 * through the programmatic API (no private mount namespace: its mounts are in
 * the host's). After each kill the next tsbuild command, whichever it is,
 * leaves no mount the killed process made (under /run/tsbuild — its mount
 * points live there now, not in the temp dir — or the store), no bundle
 * folder, no runtime process of its containers, no secret bytes in /run, /tmp,
 * /dev/shm or the store, and `fsck` then reports nothing.
 */
import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { collect, processesMentioning, type ChildResult } from '../cli/test/run-support.js';
import { makeBusyboxRootfs, tempDir } from './support/fixtures.js';
import { mulberry32 as prng } from './support/prng.js';

const SEED = Number(process.env.TSBUILD_CRASH_SEED ?? 20261207);
const KILLS = 32;
const CLI = fileURLToPath(new URL('../cli/bin/tsbuild.js', import.meta.url));
const REPO = fileURLToPath(new URL('..', import.meta.url));
/** Commands run after a kill: any of them must reclaim what the killed process left. */
const NEXT = [['images'], ['du'], ['ps', '-a'], ['inspect', 'busybox'], ['prune', '--grace', '3600']];

function dockerfile(variant: number): string {
  switch (variant) {
    case 0:
      return 'FROM busybox\nCOPY n.txt /n.txt\nRUN --mount=type=secret,id=tok cat /run/secrets/tok > /dev/null && sleep 0.4 && cat /n.txt > /out\n';
    case 1:
      return 'FROM busybox\nCOPY n.txt /n.txt\nRUN --mount=type=cache,target=/cache sh -c \'cat /n.txt >> /cache/log; i=0; while [ $i -lt 40 ]; do echo $i > /f$i; i=$((i+1)); done\'\nRUN --mount=type=secret,id=tok,required [ -s /run/secrets/tok ] && sleep 0.2\n';
    case 2:
      return 'FROM busybox\nADD a.tar.gz /x/\nCOPY n.txt /n.txt\nRUN --mount=type=secret,id=tok,target=/s sh -c \'cat /s > /dev/null; ls /x > /ls; sleep 0.3\'\n';
    default:
      return [
        'FROM busybox AS a',
        'COPY n.txt /n.txt',
        'RUN --mount=type=cache,target=/c,sharing=locked sh -c \'seq 1 5000 > /c/seq; cp /c/seq /seq\'',
        'FROM busybox',
        'COPY --from=a /seq /seq',
        'RUN --mount=type=secret,id=tok cat /run/secrets/tok > /dev/null && sleep 0.3',
        '',
      ].join('\n');
  }
}

describe('issue 13: nothing left behind after SIGKILL at random moments', function () {
  this.timeout(900_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  let startMarker: string;

  before(() => {
    tmp = tempDir('tsbuild-crash-leftovers-');
    root = join(tmp.path, 'store');
    startMarker = join(tmp.path, 'start-marker');
    writeFileSync(startMarker, '');
    const r = execFileSync(CLI, ['--root', root, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'busybox'], { encoding: 'utf8' });
    void r;
  });
  after(() => tmp.cleanup());

  it(`the next command reclaims everything and fsck is clean (seed ${SEED})`, async () => {
    const random = prng(SEED);
    const secret = `tsbuild-crash-secret-${process.pid}-${Math.floor(random() * 1e9)}`;
    const secretFile = join(tmp.path, 'secret.txt');
    writeFileSync(secretFile, secret);
    const ctx = join(tmp.path, 'ctx');
    mkdirSync(join(ctx, 'a'), { recursive: true });
    writeFileSync(join(ctx, 'a', 'inner.txt'), 'inner\n');
    execFileSync('tar', ['-czf', join(ctx, 'a.tar.gz'), '-C', join(ctx, 'a'), '.']);
    let midway = 0;
    const modes = { group: 0, process: 0, api: 0 };
    for (let k = 0; k < KILLS; k++) {
      const variant = k % 4;
      writeFileSync(join(ctx, 'Dockerfile'), dockerfile(variant));
      writeFileSync(join(ctx, 'n.txt'), `build ${k}\n`);
      const mode = k % 8 === 7 ? 'api' : k % 2 === 0 ? 'group' : 'process';
      modes[mode]++;
      const child = mode === 'api' ? apiBuild(root, ctx, secretFile) : spawn(CLI, ['--root', root, 'build', '--progress', 'plain', '--secret', `id=tok,src=${secretFile}`, ctx], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const done = collect(child);
      // The API build starts slower (tsx): its kill waits for a running container, so its host mounts exist.
      const killAt = mode === 'api' ? untilBundle(child.pid!, 20_000) : sleep(100 + Math.floor(random() * 1200));
      const finished = await Promise.race([done.then(() => true), killAt.then(() => false)]);
      if (!finished) {
        midway++;
        if (mode === 'group') process.kill(-child.pid!, 'SIGKILL');
        else child.kill('SIGKILL');
      }
      const result = await done;
      if (finished) expect(result.code, `build ${k} finished before its kill: ${result.stderr.slice(-2000)}`).to.equal(0);
      const owner = `${child.pid}-`;

      const next = NEXT[k % NEXT.length]!;
      const after = await cli(root, ...next);
      expect(after.code, `${next.join(' ')} after kill ${k}: ${after.stderr}`).to.equal(0);
      const where = `kill ${k} (${mode}, variant ${variant}), then ${next.join(' ')}`;
      expect(hostMounts().filter((m) => m.includes(`/run/tsbuild/bundles/${owner}`) || m.includes(`/run/tsbuild/mnt/${owner}`) || m.includes(root)), `mounts after ${where}`).to.deep.equal([]);
      for (const base of ['/run/tsbuild/bundles', '/run/tsbuild/mnt']) {
        expect(readdirSafe(base).filter((n) => n.startsWith(owner)), `folders in ${base} after ${where}`).to.deep.equal([]);
      }
      // Its runtime processes (`crun run --bundle <its folder>/…`) end once the reclaim deleted their containers.
      let runtimes = processesMentioning(`/run/tsbuild/bundles/${owner}`);
      for (let i = 0; i < 100 && runtimes.length > 0; i++, runtimes = processesMentioning(`/run/tsbuild/bundles/${owner}`)) await sleep(20);
      expect(runtimes, `runtime processes after ${where}`).to.deep.equal([]);
      expect(secretHits(secret, [root], startMarker).filter((f) => f !== secretFile), `secret bytes after ${where}`).to.deep.equal([]);
      const fsck = await cli(root, 'fsck');
      expect(fsck.stdout, `fsck after ${where}`).to.match(/: 0 problems\n$/);
      expect(fsck.code).to.equal(0);
    }
    console.log(`killed mid-build: ${midway} of ${KILLS} (${JSON.stringify(modes)})`);
    expect(midway).to.be.greaterThan(KILLS / 2);
  });
});

function cli(root: string, ...argv: string[]): Promise<ChildResult> {
  return collect(spawn(CLI, ['--root', root, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** A build through `import { build } from 'tsbuild'` in a plain Node process (no private mount namespace). */
function apiBuild(root: string, ctx: string, secretFile: string): ChildProcess {
  const code = `import { build } from 'tsbuild'; await build({ root: ${JSON.stringify(root)}, context: ${JSON.stringify(ctx)}, secrets: [{ id: 'tok', src: ${JSON.stringify(secretFile)} }] });`;
  return spawn(process.execPath, ['--import', 'tsx', '--conditions=tsbuild-source', '--input-type=module', '-e', code], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves once a bundle of process `pid` exists (its container is being started), or after `ms`. */
async function untilBundle(pid: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const mine = readdirSafe('/run/tsbuild/bundles').find((n) => n.startsWith(`${pid}-`));
    if (mine && readdirSafe(join('/run/tsbuild/bundles', mine)).length > 0) return sleep(150);
    await sleep(20);
  }
}

/** The host's mount table (this test runs in the host's namespace). */
function hostMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[4]!);
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Files holding `secret`: all of /run, /dev/shm and `dirs`; in /tmp, those changed since the test began. */
function secretHits(secret: string, dirs: string[], since: string): string[] {
  const grep = (args: string[]) => {
    try {
      return execFileSync('grep', ['-rlsF', '--devices=skip', secret, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 }).split('\n').filter(Boolean);
    } catch (err) {
      return ((err as { stdout?: string }).stdout ?? '').split('\n').filter(Boolean); // exit 1: no match
    }
  };
  let listing: string;
  try {
    listing = execFileSync('find', ['/tmp', '-xdev', '-type', 'f', '-newer', since, '-size', '-4M'], { encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (err) {
    listing = (err as { stdout?: string }).stdout ?? ''; // files vanishing under find (other tests) make it exit 1
  }
  const recent = listing.split('\n').filter(Boolean);
  const hits = grep(['/run', '/dev/shm', ...dirs.filter(existsSync)]);
  for (let i = 0; i < recent.length; i += 500) hits.push(...grep(recent.slice(i, i + 500)));
  return hits;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
