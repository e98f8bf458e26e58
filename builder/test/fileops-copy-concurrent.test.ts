import { expect } from 'chai';
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copy } from '@tsbuild/builder';
import { tempDir } from '../../test/support/fixtures.js';

/** Every entry below `root` as [path, mode, uid, gid, mtime (whole seconds, as layers keep it), content or link target]. */
function snapshot(root: string, rel = ''): unknown[] {
  const out: unknown[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const path = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(root, path), { bigint: true });
    const body = st.isFile() ? readFileSync(join(root, path), 'utf8') : st.isSymbolicLink() ? readlinkSync(join(root, path)) : '';
    out.push([path, Number(st.mode), Number(st.uid), Number(st.gid), st.isSymbolicLink() ? 0n : st.mtimeNs / 1_000_000_000n, body]);
    if (st.isDirectory()) out.push(...snapshot(root, path));
  }
  return out;
}

describe('copy: many entries at once', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.cleanup());

  it('a source of ~900 entries gives the same tree: modes, owners (--chown, set-id bits set again after it), mtimes, links, a large file', async function () {
    this.timeout(60_000);
    const src = join(tmp.path, 'src');
    const t = new Date('2021-05-06T07:08:09.250Z');
    for (let d = 0; d < 3; d++) {
      mkdirSync(join(src, `d${d}/sub`), { recursive: true });
      for (let f = 0; f < 300; f++) {
        const file = join(src, `d${d}`, f % 3 === 0 ? `sub/f${f}` : `f${f}`);
        writeFileSync(file, `${d}:${f}\n`.repeat(f % 7));
        chmodSync(file, [0o644, 0o755, 0o600, 0o4755, 0o2711][f % 5]!);
        utimesSync(file, t, new Date(t.getTime() + f * 1000));
      }
      symlinkSync('f1', join(src, `d${d}/link`));
      linkSync(join(src, `d${d}/f1`), join(src, `d${d}/hard`));
      for (const dir of [`d${d}/sub`, `d${d}`]) utimesSync(join(src, dir), t, t);
    }
    writeFileSync(join(src, 'd0/big'), Buffer.alloc(3 << 20, 7));
    utimesSync(join(src, 'd0'), t, t);
    const dst = join(tmp.path, 'dst');
    mkdirSync(dst);
    const { copied } = await copy({ srcRoot: src, srcPatterns: ['.'], destRoot: dst, dest: '/out/' });
    expect(copied).to.equal(3 * (2 + 300 + 2) + 2); // + d0/big, + the top directory
    expect(snapshot(join(dst, 'out'))).to.deep.equal(snapshot(src));
    expect(lstatSync(join(dst, 'out/d2/hard')).ino).to.equal(lstatSync(join(dst, 'out/d2/f1')).ino);

    await copy({ srcRoot: src, srcPatterns: ['d1'], destRoot: dst, dest: '/owned/', chown: { uid: 7, gid: 8 } });
    const owners = new Set(readdirSync(join(dst, 'owned')).map((n) => `${lstatSync(join(dst, 'owned', n)).uid}:${lstatSync(join(dst, 'owned', n)).gid}`));
    expect([...owners]).to.deep.equal(['7:8']);
    // chown clears set-id bits; they are set again afterwards, as on the main thread.
    expect(lstatSync(join(dst, 'owned/f8')).mode & 0o7777).to.equal(0o4755);
  });

  it('a later source replaces the files an earlier source of the same COPY wrote', async function () {
    this.timeout(60_000);
    const src = join(tmp.path, 'src');
    for (const s of ['a', 'b']) {
      mkdirSync(join(src, s, 'same'), { recursive: true });
      for (let f = 0; f < 600; f++) writeFileSync(join(src, s, 'same', `f${f}`), `${s}${f}`);
    }
    const dst = join(tmp.path, 'dst');
    mkdirSync(dst);
    await copy({ srcRoot: src, srcPatterns: ['a', 'b'], destRoot: dst, dest: '/out/' });
    expect(readdirSync(join(dst, 'out/same'))).to.have.length(600);
    for (const f of [0, 299, 599]) expect(readFileSync(join(dst, `out/same/f${f}`), 'utf8')).to.equal(`b${f}`);
  });

  it('gives the same tree as the source: modes (set-id bits too), mtimes, links, hard links, nested and read-only dirs', async () => {
    const src = join(tmp.path, 'src');
    const t = new Date('2020-01-02T03:04:05.123Z');
    for (let d = 0; d < 6; d++) {
      mkdirSync(join(src, `d${d}/deep/er`), { recursive: true });
      for (let f = 0; f < 40; f++) {
        const file = join(src, `d${d}`, `f${f}`);
        writeFileSync(file, `${d}/${f}\n`.repeat(f));
        chmodSync(file, [0o644, 0o755, 0o600, 0o4755, 0o2711][f % 5]!);
        utimesSync(file, t, new Date(t.getTime() + f * 1000));
      }
      writeFileSync(join(src, `d${d}/deep/er/z`), 'z');
      symlinkSync(`../f${d}`, join(src, `d${d}/deep/link`));
      linkSync(join(src, `d${d}/f1`), join(src, `d${d}/deep/er/hard`));
      chmodSync(join(src, `d${d}/deep/er`), 0o555);
      for (const dir of [`d${d}/deep/er`, `d${d}/deep`, `d${d}`]) utimesSync(join(src, dir), t, t);
    }
    const dst = join(tmp.path, 'dst');
    mkdirSync(dst);
    const { copied } = await copy({ srcRoot: src, srcPatterns: ['.'], destRoot: dst, dest: '/out/' });
    expect(copied).to.equal(6 * (3 + 40 + 3) + 1);
    // The context's owner is not kept (COPY from the context: 0:0); here the source is owned by root anyway.
    expect(snapshot(join(dst, "out"))).to.deep.equal(snapshot(src));
    for (let d = 0; d < 6; d++) expect(lstatSync(join(dst, `out/d${d}/deep/er/hard`)).ino).to.equal(lstatSync(join(dst, `out/d${d}/f1`)).ino);
  });

  it('a failing entry fails the copy with that entry\'s error', async () => {
    const src = join(tmp.path, 'src');
    mkdirSync(join(src, 'many'), { recursive: true });
    for (let f = 0; f < 100; f++) writeFileSync(join(src, 'many', `f${String(f).padStart(3, '0')}`), 'x');
    const dst = join(tmp.path, 'dst');
    mkdirSync(join(dst, 'out/f050'), { recursive: true });
    let err: unknown;
    await copy({ srcRoot: src, srcPatterns: ['many'], destRoot: dst, dest: '/out/' }).catch((e: unknown) => (err = e));
    expect(String(err)).to.match(/cannot overwrite directory \/out\/f050/);
  });
});
