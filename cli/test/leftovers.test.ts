/**
 * Issue 13, through the `tsbuild` executable (cli/bin/tsbuild.js and its sh
 * prologue): the CLI's mounts live in a private mount namespace of its own,
 * and `fsck` reports what a killed build left (its container, bundle folder,
 * lease and temporary snapshot) and `--repair` removes it.
 */
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { collect } from './run-support.js';

const bin = resolve(import.meta.dirname, '../bin/tsbuild.js');

describe('issue 13: the CLI\'s mounts and what a killed build leaves', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  let ctx: string;

  before(() => {
    tmp = tempDir('tsbuild-leftovers-');
    root = join(tmp.path, 'store');
    execFileSync(bin, ['--root', root, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'busybox'], { stdio: 'ignore' });
    ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx);
  });
  after(() => tmp.cleanup());

  /** Starts `tsbuild build` of a RUN that sleeps; resolves with the process once its container runs. */
  async function startSleepingBuild(secretFile?: string) {
    const mount = secretFile ? '--mount=type=secret,id=tok ' : '';
    writeFileSync(join(ctx, 'Dockerfile'), `FROM busybox\nRUN ${mount}echo ${Math.random()} && sleep 30\n`);
    const child = spawn(bin, ['--root', root, 'build', '--progress', 'plain', ...(secretFile ? ['--secret', `id=tok,src=${secretFile}`] : []), ctx], { stdio: ['ignore', 'pipe', 'pipe'] });
    const done = collect(child);
    for (let i = 0; i < 400; i++) {
      const mine = readdirSync('/run/tsbuild/bundles').find((n) => n.startsWith(`${child.pid}-`));
      const id = mine ? readdirSync(join('/run/tsbuild/bundles', mine))[0] : undefined;
      // Running: the runtime has written its state (and the container's process is in it).
      if (mine && id && existsSync(join('/run/tsbuild/crun', id, 'status'))) return { child, done, folder: join('/run/tsbuild/bundles', mine) };
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill('SIGKILL');
    throw new Error(`the build never started its container: ${(await done).stderr}`);
  }
  const hostMountsUnder = (dir: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(dir));

  it('runs in a mount namespace of its own: its rootfs mount is not in the host\'s table', async () => {
    const { child, done, folder } = await startSleepingBuild();
    try {
      expect(readlinkSync(`/proc/${child.pid}/ns/mnt`)).to.not.equal(readlinkSync('/proc/self/ns/mnt'));
      const inside = readFileSync(`/proc/${child.pid}/mountinfo`, 'utf8');
      expect(inside, 'the build sees its rootfs mount').to.contain(`${folder}/`);
      expect(hostMountsUnder(folder), 'the host does not').to.deep.equal([]);
    } finally {
      child.kill('SIGINT');
      await done;
    }
  });

  it('a secret\'s tmpfs is mounted in the build\'s namespace only, and a kill of the build leaves no byte of it', async () => {
    const secret = `leftovers-secret-${process.pid}-${Math.random()}`;
    const secretFile = join(tmp.path, 'secret.txt');
    writeFileSync(secretFile, secret);
    const { child, done, folder } = await startSleepingBuild(secretFile);
    const grep = () => {
      try {
        return execFileSync('grep', ['-rlsF', '--devices=skip', secret, '/run', '/dev/shm', root], { encoding: 'utf8' });
      } catch (err) {
        return (err as { stdout?: string }).stdout ?? '';
      }
    };
    try {
      expect(readFileSync(`/proc/${child.pid}/mountinfo`, 'utf8'), 'the build mounts it').to.match(/\/secrets .* - tmpfs /);
      expect(hostMountsUnder(folder), 'the host never sees it').to.deep.equal([]);
      expect(grep(), 'no process outside can read it').to.equal('');
    } finally {
      child.kill('SIGKILL'); // tsbuild alone: its runtime and container (which hold the namespace) live on until reclaimed
      await done;
    }
    expect(grep()).to.equal('');
    const repair = await collect(spawn(bin, ['--root', root, 'fsck', '--repair'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(repair.stdout).to.match(/repaired: container /);
    expect(grep()).to.equal('');
  });

  it('fsck reports a killed build\'s container, bundle, lease and temporary snapshot; --repair removes them', async () => {
    const { child, done, folder } = await startSleepingBuild();
    child.kill('SIGKILL'); // the tsbuild process only: its runtime and container live on
    await done;
    const report = await collect(spawn(bin, ['--root', root, 'fsck'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(report.code, report.stdout).to.equal(1);
    const kinds = report.stdout.split('\n').filter((l) => l.startsWith('problem: ')).map((l) => l.split(' ')[1]).sort();
    expect(kinds).to.deep.equal(['bundle', 'container', 'lease-dead', 'snapshot-orphan']);
    const repair = await collect(spawn(bin, ['--root', root, 'fsck', '--repair'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(repair.stdout, repair.stdout).to.match(/4 problems, 4 repaired\n$/);
    expect(repair.code).to.equal(0);
    expect(readdirSync('/run/tsbuild/bundles').filter((n) => n.startsWith(`${child.pid}-`))).to.deep.equal([]);
    expect(readdirSync('/run/tsbuild/crun').filter((n) => folder.endsWith(n))).to.deep.equal([]);
    const clean = await collect(spawn(bin, ['--root', root, 'fsck'], { stdio: ['ignore', 'pipe', 'pipe'] }));
    expect(clean.stdout).to.match(/: 0 problems\n$/);
  });
});
