/**
 * The one behavioural suite every Snapshotter backend passes (the containerd
 * habit), with real mounts: the Mount[] a snapshotter returns is mounted with
 * mount(8), written through, unmounted, committed, and built upon.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Mount, Snapshotter } from '../src/types.js';
import { tempDir } from '../../test/support/fixtures.js';

/** Mounts `mounts` on `target` with mount(8); returns the unmount. */
export function mountAll(mounts: Mount[], target: string): () => void {
  mkdirSync(target, { recursive: true });
  const done: string[] = [];
  for (const m of mounts) {
    execFileSync('mount', ['-t', m.type, '-o', m.options.join(','), m.source, target]);
    done.push(target);
  }
  return () => {
    for (const t of done.reverse()) execFileSync('umount', [t]);
  };
}

/** Runs `fn` with `mounts` mounted on a fresh dir, always unmounting. */
export async function withMounted<T>(mounts: Mount[], fn: (dir: string) => T | Promise<T>): Promise<T> {
  const t = tempDir('tsbuild-mnt-');
  const umount = mountAll(mounts, t.path);
  try {
    return await fn(t.path);
  } finally {
    umount();
    rmSync(t.path, { recursive: true, force: true });
  }
}

async function rejection(p: Promise<unknown>): Promise<{ category?: string; code?: string }> {
  return p.then(
    () => ({}),
    (e: { category?: string; code?: string }) => e,
  );
}

export function runSnapshotterSuite(name: string, factory: (root: string) => Promise<Snapshotter>): void {
  describe(`snapshotter suite: ${name}`, () => {
    let tmp: ReturnType<typeof tempDir>;
    let sn: Snapshotter;
    beforeEach(async () => {
      tmp = tempDir();
      sn = await factory(tmp.path);
    });
    afterEach(() => tmp.cleanup());

    /** base: /a, /dir/x ; child: /b, /a changed, /dir/x deleted. */
    async function baseAndChild(): Promise<void> {
      await withMounted(await sn.prepare('base-active'), (d) => {
        writeFileSync(join(d, 'a'), 'a1');
        mkdirSync(join(d, 'dir'));
        writeFileSync(join(d, 'dir/x'), 'x');
      });
      await sn.commit('base', 'base-active', { labels: { layer: '0' } });
      await withMounted(await sn.prepare('child-active', 'base'), (d) => {
        expect(readFileSync(join(d, 'a'), 'utf8')).to.equal('a1');
        expect(readFileSync(join(d, 'dir/x'), 'utf8')).to.equal('x');
        writeFileSync(join(d, 'a'), 'a2');
        writeFileSync(join(d, 'b'), 'b');
        unlinkSync(join(d, 'dir/x'));
      });
      await sn.commit('child', 'child-active');
    }

    it('prepare → write through the mount → commit → child sees parent files plus its own changes', async () => {
      await baseAndChild();
      expect((await sn.stat('base')).kind).to.equal('committed');
      expect((await sn.stat('base')).labels).to.deep.equal({ layer: '0' });
      expect((await sn.stat('child')).parent).to.equal('base');
      expect((await rejection(sn.stat('base-active'))).category).to.equal('NotFound');
      await withMounted(await sn.prepare('grandchild', 'child'), (d) => {
        expect(readFileSync(join(d, 'a'), 'utf8')).to.equal('a2');
        expect(readFileSync(join(d, 'b'), 'utf8')).to.equal('b');
        expect(existsSync(join(d, 'dir/x'))).to.equal(false);
        expect(existsSync(join(d, 'dir'))).to.equal(true);
      });
    });

    it('a view is read-only and sees exactly its parent; the parent is unchanged by its child', async () => {
      await baseAndChild();
      await withMounted(await sn.view('v-child', 'child'), (d) => {
        expect(readFileSync(join(d, 'a'), 'utf8')).to.equal('a2');
        expect(() => writeFileSync(join(d, 'new'), 'n')).to.throw(/EROFS|read-only/);
      });
      await withMounted(await sn.view('v-base', 'base'), (d) => {
        expect(readFileSync(join(d, 'a'), 'utf8')).to.equal('a1');
        expect(existsSync(join(d, 'b'))).to.equal(false);
        expect(readFileSync(join(d, 'dir/x'), 'utf8')).to.equal('x');
      });
      expect((await sn.stat('v-base')).kind).to.equal('view');
      expect((await rejection(sn.commit('nope', 'v-base'))).category).to.equal('FailedPrecondition');
      await sn.remove('v-child');
      await sn.remove('v-base');
    });

    it('mounts(key) repeats the mounts of an active snapshot; dir(key) is where its own files land', async () => {
      await baseAndChild();
      const mounts = await sn.prepare('work', 'child');
      expect(await sn.mounts('work')).to.deep.equal(mounts);
      writeFileSync(join(sn.dir('work'), 'direct'), 'd');
      await withMounted(await sn.mounts('work'), (d) => {
        expect(readFileSync(join(d, 'direct'), 'utf8')).to.equal('d');
        writeFileSync(join(d, 'through-mount'), 't');
      });
      expect(readFileSync(join(sn.dir('work'), 'through-mount'), 'utf8')).to.equal('t');
    });

    it('committing onto an existing name is AlreadyExists; the active snapshot survives', async () => {
      await baseAndChild();
      await sn.prepare('again', 'base');
      const err = await rejection(sn.commit('child', 'again'));
      expect(err.category).to.equal('AlreadyExists');
      expect((await sn.stat('again')).kind).to.equal('active');
      await sn.remove('again');
    });

    it('commit onto a descendant of the parent (rebase): overlay stacks the diff there, copy refuses', async () => {
      await baseAndChild();
      // A diff made on base (adds /c) is committed on child, which descends from base.
      await withMounted(await sn.prepare('side-active', 'base'), (d) => writeFileSync(join(d, 'c'), 'c'));
      const rebase = sn.commit('side', 'side-active', { parent: 'child', labels: { why: 'test' } });
      if ((sn as { kind?: string }).kind !== 'overlay') {
        expect((await rejection(rebase)).code).to.equal('STORE_SNAPSHOT_NO_REBASE');
        expect((await sn.stat('side-active')).kind).to.equal('active');
        return;
      }
      await rebase;
      expect((await sn.stat('side')).parent).to.equal('child');
      expect((await sn.stat('side')).labels).to.deep.equal({ why: 'test' });
      await withMounted(await sn.view('v-side', 'side'), (d) => {
        expect(readFileSync(join(d, 'c'), 'utf8')).to.equal('c');
        expect(readFileSync(join(d, 'a'), 'utf8')).to.equal('a2'); // child's change, below the rebased diff
        expect(existsSync(join(d, 'dir/x'))).to.equal(false);
      });
      // Only onto a committed descendant of the snapshot's own parent.
      await withMounted(await sn.prepare('late', 'child'), (d) => writeFileSync(join(d, 'l'), 'l'));
      expect((await rejection(sn.commit('late-on-base', 'late', { parent: 'base' }))).code).to.equal('STORE_SNAPSHOT_BAD_REBASE');
      await sn.prepare('act2', 'base');
      expect((await rejection(sn.commit('late-on-act', 'late', { parent: 'act2' }))).code).to.equal('STORE_SNAPSHOT_PARENT_NOT_COMMITTED');
      expect((await sn.stat('late')).kind).to.equal('active');
    });

    it('refuses bad keys and parents', async () => {
      await baseAndChild();
      expect((await rejection(sn.prepare('base'))).category).to.equal('AlreadyExists');
      expect((await rejection(sn.prepare('x', 'missing'))).category).to.equal('NotFound');
      await sn.prepare('act');
      expect((await rejection(sn.prepare('y', 'act'))).category).to.equal('FailedPrecondition');
      expect((await rejection(sn.remove('missing'))).category).to.equal('NotFound');
      expect(() => sn.dir('missing')).to.throw(/does not exist/);
    });

    it('remove refuses a committed snapshot with children, then removes bottom-up and deletes files', async () => {
      await baseAndChild();
      const baseDir = sn.dir('base');
      const err = await rejection(sn.remove('base'));
      expect(err.category).to.equal('FailedPrecondition');
      expect(err.code).to.equal('STORE_SNAPSHOT_HAS_CHILDREN');
      await sn.remove('child');
      await sn.remove('base');
      expect(existsSync(baseDir)).to.equal(false);
      const keys: string[] = [];
      for await (const i of sn.walk()) keys.push(i.key);
      expect(keys).to.deep.equal([]);
    });

    it('walk lists every snapshot with kind and parent', async () => {
      await baseAndChild();
      await sn.prepare('act', 'child');
      const all: Record<string, [string, string | undefined]> = {};
      for await (const i of sn.walk()) all[i.key] = [i.kind, i.parent];
      expect(all).to.deep.equal({ base: ['committed', undefined], child: ['committed', 'base'], act: ['active', 'child'] });
    });

    it('two instances on one root (as two processes would) never collide', async () => {
      const other = await factory(tmp.path);
      await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? sn : other).prepare(`k${i}`)));
      const dirs = new Set<string>();
      for (let i = 0; i < 12; i++) {
        await sn.stat(`k${i}`);
        dirs.add(sn.dir(`k${i}`));
      }
      expect(dirs.size).to.equal(12);
    });
  });
}
