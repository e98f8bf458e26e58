import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { OverlaySnapshotter } from '../src/snapshot/overlay-snapshotter.js';
import { CopySnapshotter } from '../src/snapshot/copy-snapshotter.js';
import { createSnapshotter, probeOverlay } from '../src/snapshot/create-snapshotter.js';
import { isRoot, tempDir } from '../../test/support/fixtures.js';
import { runSnapshotterSuite } from './snapshot-suite.js';

const run = promisify(execFile);

if (!isRoot) throw new Error('snapshot tests mount filesystems and need root');

runSnapshotterSuite('overlay', async (root) => new OverlaySnapshotter(root));
runSnapshotterSuite('copy', async (root) => new CopySnapshotter(root));

describe('snapshot: overlay mounts and backend selection', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.cleanup());

  it('overlay mounts: bind for a lone active, lowerdirs nearest first, short numeric paths', async () => {
    const sn = new OverlaySnapshotter(tmp.path);
    const [first] = await sn.prepare('a');
    expect(first).to.deep.equal({ type: 'bind', source: join(tmp.path, 'snapshots/1/fs'), options: ['rbind', 'rw'] });
    await sn.commit('l1', 'a');
    await sn.prepare('b', 'l1');
    await sn.commit('l2', 'b');
    const [m] = await sn.prepare('c', 'l2');
    const s = (id: number, d = 'fs') => join(tmp.path, `snapshots/${id}/${d}`);
    expect(m).to.deep.equal({
      type: 'overlay',
      source: 'overlay',
      options: ['index=off', `lowerdir=${s(2)}:${s(1)}`, `upperdir=${s(3)}`, `workdir=${s(3, 'work')}`],
    });
    expect(await sn.view('v1', 'l1')).to.deep.equal([{ type: 'bind', source: s(1), options: ['rbind', 'ro'] }]);
    expect(await sn.view('v2', 'l2')).to.deep.equal([{ type: 'overlay', source: 'overlay', options: ['ro', 'index=off', `lowerdir=${s(2)}:${s(1)}`] }]);
    // commit drops the work dir
    await sn.commit('l3', 'c');
    expect(readdirSync(join(tmp.path, 'snapshots/3'))).to.deep.equal(['fs']);
    // also once overlay has used it (it leaves its own work/work behind, mode 000)
    const [o] = await sn.prepare('d', 'l3');
    const merged = join(tmp.path, 'merged');
    await run('mkdir', ['-p', merged]);
    await run('mount', ['-t', 'overlay', 'overlay', '-o', o!.options.join(','), merged]);
    writeFileSync(join(merged, 'written'), 'w');
    await run('umount', [merged]);
    const dDir = dirname(sn.dir('d'));
    expect(readdirSync(join(dDir, 'work'))).to.deep.equal(['work']);
    await sn.commit('l4', 'd');
    expect(readdirSync(dDir)).to.deep.equal(['fs']);
    expect(readdirSync(join(dDir, 'fs'))).to.deep.equal(['written']);
  });

  it('refuses (typed, before touching disk) an overlay whose options would not fit in one page', async () => {
    const sn = new OverlaySnapshotter(join(tmp.path, 'x'.repeat(240)));
    let parent: string | undefined;
    let err: { code?: string } | undefined;
    let depth = 0;
    for (; depth < 40 && !err; depth++) {
      err = await sn.prepare(`a${depth}`, parent).then(() => undefined, (e: { code?: string }) => e);
      if (err) break;
      await sn.commit(`l${depth}`, `a${depth}`);
      parent = `l${depth}`;
    }
    expect(err?.code).to.equal('STORE_OVERLAY_OPTIONS_TOO_LONG');
    expect(depth).to.be.within(10, 16); // ~270 bytes per lower dir
    const keys: string[] = [];
    for await (const i of sn.walk()) keys.push(i.key);
    expect(keys).to.not.include(`a${depth}`);
    expect(keys).to.have.length(depth);
  });

  it('updates asked for together are group-committed: each applies in order, a refused one changes nothing', async () => {
    const sn = new OverlaySnapshotter(tmp.path);
    await sn.prepare('base');
    await sn.commit('l0', 'base');
    const metaFile = join(tmp.path, 'snapshots/metadata.json');
    // Eight prepares at once, one of them on a parent that does not exist, one a duplicate key.
    const asked = [...Array.from({ length: 6 }, (_, i) => sn.prepare(`k${i}`, 'l0')), sn.prepare('bad', 'missing'), sn.prepare('k0', 'l0')];
    const settled = await Promise.allSettled(asked);
    expect(settled.slice(0, 6).map((r) => r.status)).to.deep.equal(Array(6).fill('fulfilled'));
    expect((settled[6] as PromiseRejectedResult).reason.code).to.equal('STORE_SNAPSHOT_NOT_FOUND');
    expect((settled[7] as PromiseRejectedResult).reason.code).to.equal('STORE_SNAPSHOT_EXISTS');
    const table = JSON.parse(readFileSync(metaFile, 'utf8'));
    const ids = Array.from({ length: 6 }, (_, i) => table.snapshots[`k${i}`].id as number);
    expect(ids).to.deep.equal([2, 3, 4, 5, 6, 7]); // in the order asked, none skipped by the refused ones
    expect(table.snapshots).to.not.have.property('bad');
    expect(table.nextId).to.equal(8);
    // and a later update (asked from a settled one's continuation) still runs
    await sn.remove('k5');
    expect(JSON.parse(readFileSync(metaFile, 'utf8')).snapshots).to.not.have.property('k5');
  });

  it("a directory left at the next id by a machine crash is not inherited by the snapshot that gets that id", async () => {
    const sn = new OverlaySnapshotter(tmp.path);
    await sn.prepare('a');
    const table = JSON.parse(readFileSync(join(tmp.path, 'snapshots/metadata.json'), 'utf8'));
    // As if an unflushed table lost a prepare whose directory (with files) made it to disk.
    const orphan = join(tmp.path, 'snapshots', String(table.nextId));
    mkdirSync(join(orphan, 'fs/etc'), { recursive: true });
    writeFileSync(join(orphan, 'fs/etc/leaked'), 'old');
    await sn.prepare('b');
    expect(sn.dir('b')).to.equal(join(orphan, 'fs'));
    expect(readdirSync(sn.dir('b'))).to.deep.equal([]);
  });

  it('metadata stays consistent when two processes prepare and commit on one root at once', async () => {
    const module = new URL('../src/snapshot/overlay-snapshotter.ts', import.meta.url).href;
    const script = join(tmp.path, 'child.mjs');
    writeFileSync(
      script,
      `const { OverlaySnapshotter } = await import(${JSON.stringify(module)});
       const sn = new OverlaySnapshotter(process.argv[2]);
       process.stdout.write('ready\\n');
       for (let i = 0; i < 20; i++) { await sn.prepare('child-a' + i); await sn.commit('child-c' + i, 'child-a' + i); }`,
    );
    const child = execFile(process.execPath, ['--import=tsx', script, tmp.path]);
    const childDone = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const sn = new OverlaySnapshotter(tmp.path);
    try {
      await new Promise((resolve) => child.stdout!.once('data', resolve)); // start together, so the two really interleave
      for (let i = 0; i < 20; i++) {
        await sn.prepare(`parent-a${i}`);
        await sn.commit(`parent-c${i}`, `parent-a${i}`);
      }
      expect(await childDone).to.equal(0);
    } finally {
      child.kill(); // a failed parent must not leave the child writing into a removed temp dir
      await childDone;
    }
    const keys: string[] = [];
    const dirs = new Set<string>();
    for await (const i of sn.walk()) {
      expect(i.kind).to.equal('committed');
      keys.push(i.key);
      dirs.add(sn.dir(i.key));
    }
    expect(keys).to.have.length(40);
    expect(dirs.size).to.equal(40);
  });

  it("createSnapshotter 'auto' probes overlay once and picks it here, leaving no probe behind but its remembered result", async () => {
    const warnings: string[] = [];
    const sn = await createSnapshotter(tmp.path, { onWarning: (w) => warnings.push(w.message) });
    expect(sn.kind).to.equal('overlay');
    expect(sn.fallbackReason).to.equal(undefined);
    expect(warnings).to.deep.equal([]);
    expect(readdirSync(join(tmp.path, 'snapshots'))).to.deep.equal(['.overlay-probe.json']);
    const remembered = JSON.parse(readFileSync(join(tmp.path, 'snapshots', '.overlay-probe.json'), 'utf8')) as { kernel: string };
    expect(remembered.kernel).to.equal(release());
    // The next process trusts it (no mount: a probe dir would appear and vanish, so check the result instead)…
    expect((await createSnapshotter(tmp.path)).kind).to.equal('overlay');
    // …unless the kernel or filesystem differs: a stale record means a fresh probe, which rewrites it.
    writeFileSync(join(tmp.path, 'snapshots', '.overlay-probe.json'), JSON.stringify({ ...remembered, kernel: 'another' }));
    expect((await createSnapshotter(tmp.path)).kind).to.equal('overlay');
    expect(readFileSync(join(tmp.path, 'snapshots', '.overlay-probe.json'), 'utf8')).to.include(release());
  });

  it('the probe reports why overlay fails (an upper dir on overlayfs), and explicit kinds are honoured', async () => {
    // A probe rooted inside a mounted overlay must fail: overlayfs refuses an upper dir on overlayfs.
    const sn = new OverlaySnapshotter(tmp.path);
    await sn.prepare('a');
    await sn.commit('l1', 'a');
    await sn.prepare('b', 'l1');
    await sn.commit('l2', 'b');
    const { withMounted } = await import('./snapshot-suite.js');
    await withMounted(await sn.prepare('c', 'l2'), async (merged) => {
      const reason = await probeOverlay(join(merged, 'probe'));
      expect(reason, 'overlay on overlay should fail').to.be.a('string');
    });
    expect((await createSnapshotter(tmp.path, { kind: 'copy' })).kind).to.equal('copy');
    expect((await createSnapshotter(tmp.path, { kind: 'overlay' })).kind).to.equal('overlay');
  });
});
