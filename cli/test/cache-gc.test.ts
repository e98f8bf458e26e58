/**
 * Issue 16, build-cache lifecycle: the cache GC keeps the build cache under
 * its keep-storage bound across 20 builds of changing Dockerfiles (none
 * fails, the latest build still hits), `prune --cache` honours its filters
 * and `--all`, `du --verbose` lists records with their usage, and a prune
 * --all running beside a build never takes what that build holds. Real
 * store, crun, overlayfs; `fsck` clean at every end.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { until } from '../../test/support/watch-daemons.js';
import { collect, spawnTsbuild } from './run-support.js';
import { tsbuild } from './support.js';

const CLI = fileURLToPath(new URL('../bin/tsbuild.js', import.meta.url));

interface Record { id: string; type: string; size: number; shared: boolean; inUse: boolean; usageCount: number; lastUsedAt: string; createdAt: string; description: string; children: number }
interface Kind { kind: string; bytes: number }

/** Build `i`: a step every build shares, one that changes every build (a 300 kB layer), one on top. */
function dockerfile(i: number): string {
  return [
    'FROM busybox',
    'RUN head -c 100000 /dev/urandom > /stable',
    `RUN head -c 300000 /dev/urandom > /v${i}`,
    `RUN --mount=type=cache,target=/c sh -c 'echo ${i} >> /c/log; echo ${i} > /n'`,
    '',
  ].join('\n');
}

describe('build cache lifecycle: GC by policy, prune --cache, du --verbose', function () {
  this.timeout(600_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  let ctx: string;

  const records = async (...filters: string[]): Promise<Record[]> => {
    const r = await tsbuild(root, 'du', '--verbose', '--format', 'json', ...filters.flatMap((f) => ['--filter', f]));
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as Record[];
  };
  const storeBytes = async (): Promise<number> => (JSON.parse((await tsbuild(root, 'du', '--format', 'json')).stdout) as Kind[]).reduce((n, k) => n + k.bytes, 0);
  const build = async (i: number, ...flags: string[]) => {
    writeFileSync(join(ctx, 'Dockerfile'), dockerfile(i));
    return tsbuild(root, 'build', '--progress', 'plain', ...flags, ctx);
  };
  const fsckClean = async () => {
    const f = await tsbuild(root, 'fsck');
    expect(f.code, f.stdout).to.equal(0);
    expect(f.stdout).to.match(/: 0 problems/);
  };

  before(async () => {
    tmp = tempDir('tsbuild-cache-gc-');
    root = join(tmp.path, 'store');
    ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx);
    const imported = await tsbuild(root, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'busybox');
    expect(imported.code, imported.stderr).to.equal(0);
  });
  after(() => tmp.cleanup());

  it('keeps the build cache under --gc-keep-storage across 20 builds of changing Dockerfiles; none fails, the latest still hits', async () => {
    const keep = 2 * 1024 * 1024;
    const totals: number[] = [];
    const stores: number[] = [];
    for (let i = 0; i < 20; i++) {
      // Half the builds take the bound from the environment, as CI would set it.
      const viaEnv = i % 2 === 1;
      if (viaEnv) process.env.TSBUILD_GC_KEEP_STORAGE = '2m';
      const r = await build(i, ...(viaEnv ? [] : ['--gc-keep-storage', '2MiB'])).finally(() => delete process.env.TSBUILD_GC_KEEP_STORAGE);
      expect(r.code, `build ${i}: ${r.stderr}`).to.equal(0);
      expect(r.stderr, `build ${i}`).not.to.match(/build cache GC failed/);
      const list = await records();
      const privateBytes = list.filter((x) => !x.shared).reduce((n, x) => n + x.size, 0);
      const sharedBytes = list.filter((x) => x.shared).reduce((n, x) => n + x.size, 0);
      totals.push(privateBytes);
      stores.push(await storeBytes());
      // BuildKit's bound: the unshared cache (what an image tag holds is not counted: cache/manager.go prune).
      expect(privateBytes, `build ${i}: cache ${privateBytes} > ${keep}`).to.be.at.most(keep);
      // The whole store: the bound, the base image the tag holds, and the small files of the builds (untagged
      // manifests and configs inside prune's grace window, cache bookkeeping).
      expect(stores[i]! - sharedBytes, `build ${i}: store ${stores[i]}`).to.be.at.most(keep + 256 * 1024);
    }
    // Without the GC the 20 builds leave 20 × (300 kB blob + 300 kB snapshot) and more.
    console.log(`      cache (unshared) after each build, kB: ${totals.map((t) => Math.round(t / 1024)).join(' ')}`);
    console.log(`      whole store after each build, kB: ${stores.map((t) => Math.round(t / 1024)).join(' ')}`);
    const again = await build(19);
    expect(again.code, again.stderr).to.equal(0);
    // Fully cached: the last step hits and nothing below it runs (the solver's laziness rule).
    expect(again.stderr).to.match(/^#\d+ \[4\/4\] RUN .*\n#\d+ CACHED$/m);
    expect(again.stderr).to.match(/FINISHED in [\d.]+s: (\d+) steps?, \1 cached/);
    // The shared step survived every GC: used by every build, it was never the least recently used.
    const stable = (await records()).find((x) => x.description.includes('/stable'));
    expect(stable?.usageCount).to.be.at.least(20);
    await fsckClean();
  });

  it('du --verbose lists each record with type, size, created, last used, usage count and shared; prune --cache filters by type, id and until', async () => {
    const list = await records();
    const mount = list.find((x) => x.type === 'exec.cachemount');
    expect(mount, 'the cache mount is a record').to.exist;
    expect(list.find((x) => x.description.startsWith('[1/4] FROM'))?.shared).to.equal(true);
    const verbose = await tsbuild(root, 'du', '--verbose');
    expect(verbose.stdout).to.match(/^ID:\s+[0-9a-f]{25}$/m);
    for (const field of ['Created at', 'Reclaimable', 'Shared', 'Size', 'Description', 'Usage count', 'Last used', 'Type']) expect(verbose.stdout).to.match(new RegExp(`^${field}:\\s+\\S`, 'm'));
    expect(verbose.stdout).to.match(/^Build cache: \d+ records\nShared:\s+\S+\nPrivate:\s+\S+\nReclaimable:\s+\S+\nTotal:\s+\S+\n$/m);

    // Everything was used within the hour: until=1h removes nothing.
    const recent = await tsbuild(root, 'prune', '--cache', '-f', '--filter', 'until=1h');
    expect(recent.code, recent.stderr).to.equal(0);
    expect(recent.stdout).to.equal('Total:\t0B\n');
    expect(await records()).to.have.length(list.length);

    const byType = await tsbuild(root, 'prune', '--cache', '-f', '--filter', 'type=exec.cachemount');
    expect(byType.code, byType.stderr).to.equal(0);
    expect(byType.stdout).to.match(/^ID\s+RECLAIMABLE\s+SIZE\s+LAST ACCESSED\n/);
    expect(byType.stdout).to.include(mount!.id);
    expect(byType.stdout).to.match(/\nTotal:\t\S+\n$/);
    const left = await records();
    expect(left.map((x) => x.type)).not.to.include('exec.cachemount');
    expect(left).to.have.length(list.length - 1);

    const leaf = left.find((x) => x.children === 0 && !x.shared)!;
    const byId = await tsbuild(root, 'prune', '--cache', '-f', '--filter', `id=${leaf.id.slice(0, 12)}`);
    const rows = byId.stdout.split('\n').filter((l) => /^[0-9a-f]{25}\s/.test(l));
    expect(rows).to.have.length(1);
    expect(rows[0]!.startsWith(leaf.id)).to.equal(true);
    expect((await records()).map((x) => x.id)).not.to.include(leaf.id);
    await fsckClean();
  });

  it('prune --cache keeps what an image tag holds; --all takes it too; the tagged image still runs', async () => {
    const b = await build(100, '-t', 'gc-kept');
    expect(b.code, b.stderr).to.equal(0);
    const pruned = await tsbuild(root, 'prune', '--cache', '-f');
    expect(pruned.code, pruned.stderr).to.equal(0);
    const shared = await records();
    expect(shared.length).to.be.greaterThan(0);
    expect(shared.every((x) => x.shared), JSON.stringify(shared)).to.equal(true);
    const all = await tsbuild(root, 'prune', '--cache', '--all', '-f', '--grace', '0');
    expect(all.code, all.stderr).to.equal(0);
    expect(all.stdout).to.match(/\*\s/); // shared records are marked as buildctl marks them
    expect(await records()).to.deep.equal([]);
    const run = await tsbuild(root, 'run', '--rm', 'gc-kept', 'cat', '/n');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.equal('100\n');
    await fsckClean();
  });

  it('a prune --all beside a running build never takes what the build holds: the build succeeds', async () => {
    // The first two steps are cached by this build, the third sleeps while the prune runs.
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN head -c 200000 /dev/urandom > /r\nRUN echo one > /one\n');
    expect((await tsbuild(root, 'build', '--progress', 'plain', ctx)).code).to.equal(0);
    writeFileSync(join(ctx, 'Dockerfile'), "FROM busybox\nRUN head -c 200000 /dev/urandom > /r\nRUN echo one > /one\nRUN --mount=type=cache,target=/c sh -c 'echo x > /c/f; sleep 3; cat /c/f /one > /both'\n");
    const child = spawnTsbuild(root, ['build', '--progress', 'plain', '-t', 'beside', ctx]);
    const done = collect(child);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    await until('the build to reach its sleeping RUN', () => /\[4\/4\] RUN/.test(stderr), 60_000);
    const pruned = await tsbuild(root, 'prune', '--cache', '--all', '-f', '--grace', '0');
    expect(pruned.code, pruned.stderr).to.equal(0);
    const r = await done;
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/^#\d+ CACHED$/m);
    const run = await tsbuild(root, 'run', '--rm', 'beside', 'sh', '-c', 'cat /both; wc -c < /r');
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.equal('x\none\n200000\n');
    await fsckClean();
  });

  it('a prune killed (SIGKILL) at any moment leaves a store fsck finds clean, whose remaining cache still builds', async () => {
    const killedAt: string[] = [];
    // The whole command takes ~0.25 s on a quiet machine and seconds under load: a prune that finishes
    // first makes the next kill come sooner (×0.7), a kill makes the next a little later (×1.15), so the
    // kills land at spread points inside the prune whatever the machine's speed. (A fixed +150 ms after a
    // kill overshot a 0.25 s prune: 3 kills in 12 rounds on a quiet machine.)
    let delay = 1400;
    for (let k = 0; k < 24 && killedAt.filter((x) => x.startsWith('killed')).length < 4; k++) {
      for (const i of [200 + 2 * k, 201 + 2 * k]) expect((await build(i)).code).to.equal(0);
      const before = (await records()).length;
      const child = spawn(CLI, ['--root', root, 'prune', '--cache', '--all', '-f', '--grace', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const done = collect(child);
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      const r = await done;
      killedAt.push(r.signal === 'SIGKILL' ? `killed after ${delay} ms: ${(await records()).length} of ${before} records left` : `finished first (${r.code})`);
      delay = Math.round(delay * (r.signal === 'SIGKILL' ? 1.15 : 0.7));
      await fsckClean();
      const again = await build(201 + 2 * k);
      expect(again.code, again.stderr).to.equal(0);
    }
    console.log(`      ${killedAt.join('; ')}`);
    expect(killedAt.filter((x) => x.startsWith('killed'))).to.have.length(4);
    await fsckClean();
  });
});
