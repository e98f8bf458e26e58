import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, closeSync, linkSync, lutimesSync, mkdirSync, openSync, symlinkSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { Header } from 'tar';
import { applyLayer, packDirectory, readTar } from '@tsbuild/store';
import { tempDir } from '../../test/support/fixtures.js';
import { collect, streamOf, treeInfo } from './layer-tar-support.js';

/** VFS_CAP_REVISION_2 with the effective bit, permitting cap_net_bind_service (bit 10). */
const CAP = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const T = 1_700_000_000;

/** A tree with every kind of entry a layer can hold. */
function makeTree(root: string): void {
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/hello'), 'hello\n');
  writeFileSync(join(root, 'empty'), '');
  const fd = openSync(join(root, 'big.bin'), 'w'); // a few MB, mostly holes
  writeSync(fd, Buffer.from('start'), 0, 5, 0);
  writeSync(fd, Buffer.from('middle'), 0, 6, 2 * 1024 * 1024);
  writeSync(fd, Buffer.from('end'), 0, 3, 3 * 1024 * 1024 + 17);
  closeSync(fd);
  mkdirSync(join(root, 'private'), { mode: 0o700 });
  chmodSync(join(root, 'private'), 0o700);
  mkdirSync(join(root, 'tmp'));
  chmodSync(join(root, 'tmp'), 0o1777);
  writeFileSync(join(root, 'private/suid'), '#!/bin/sh\n');
  chownSync(join(root, 'private/suid'), 1000, 2000);
  chmodSync(join(root, 'private/suid'), 0o4755);
  symlinkSync('etc/hello', join(root, 'link'));
  symlinkSync('/absolute/target', join(root, 'abs-link'));
  writeFileSync(join(root, 'hard-a'), 'shared inode\n');
  linkSync(join(root, 'hard-a'), join(root, 'hard-b'));
  execFileSync('mkfifo', ['-m', '640', join(root, 'fifo')]);
  writeFileSync(join(root, 'capped'), 'binary\n');
  setAttributeSync(join(root, 'capped'), 'user.x', 'value-x');
  setAttributeSync(join(root, 'capped'), 'security.capability', CAP);
  mkdirSync(join(root, 'd'.repeat(60)));
  writeFileSync(join(root, 'd'.repeat(60), 'n'.repeat(70)), 'long path via PAX\n');
  for (const p of ['etc/hello', 'empty', 'big.bin', 'private/suid', 'hard-a', 'fifo', 'capped', `${'d'.repeat(60)}/${'n'.repeat(70)}`]) {
    utimesSync(join(root, p), T + 5, T + 5);
  }
  lutimesSync(join(root, 'link'), T + 7, T + 7);
  for (const p of ['etc', 'private', 'tmp', 'd'.repeat(60)]) utimesSync(join(root, p), T + 9, T + 9);
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('layer tar: pack and apply round trip', () => {
  let src: ReturnType<typeof tempDir>;
  let dst: ReturnType<typeof tempDir>;
  beforeEach(() => {
    src = tempDir('tsbuild-pack-src-');
    dst = tempDir('tsbuild-pack-dst-');
    makeTree(src.path);
  });
  afterEach(() => {
    src.cleanup();
    dst.cleanup();
  });

  it('restores every entry: type, mode, owner, size, content, link, mtime, xattrs', async () => {
    const tar = await collect(packDirectory(src.path));
    const result = await applyLayer(dst.path, streamOf(tar));
    const want = await treeInfo(src.path, { dirMtimes: true });
    expect(await treeInfo(dst.path, { dirMtimes: true })).to.deep.equal(want);
    expect(want['private/suid']).to.include({ mode: 0o4755, uid: 1000, gid: 2000 });
    expect(want['capped']!.xattrs).to.have.keys('user.x', 'security.capability');
    expect(result.entries).to.equal(Object.keys(want).length);
    expect(result.bytes).to.be.greaterThan(3 * 1024 * 1024);
  });

  it('keeps hardlinks as one inode and writes them as a Link entry', async () => {
    const tar = await collect(packDirectory(src.path));
    const entries = [];
    for await (const e of readTar(streamOf(tar))) entries.push({ path: e.path, type: e.type, linkpath: e.linkpath });
    expect(entries).to.deep.include({ path: 'hard-b', type: 'Link', linkpath: 'hard-a' });
    await applyLayer(dst.path, streamOf(tar));
    const { ino } = await import('node:fs').then((fs) => fs.lstatSync(join(dst.path, 'hard-a')));
    expect((await import('node:fs')).lstatSync(join(dst.path, 'hard-b')).ino).to.equal(ino);
  });

  it('packs the same tree to the same bytes, in docker-style sorted order', async () => {
    const a = await collect(packDirectory(src.path));
    const b = await collect(packDirectory(src.path));
    expect(sha256(a)).to.equal(sha256(b));
    expect(a.subarray(a.length - 1024).every((x) => x === 0)).to.equal(true);
    expect(a.length % 512).to.equal(0);
    const paths: string[] = [];
    for await (const e of readTar(streamOf(a))) paths.push(e.path);
    expect(paths.slice(0, 6)).to.deep.equal(['abs-link', 'big.bin', 'capped', `${'d'.repeat(60)}/`, `${'d'.repeat(60)}/${'n'.repeat(70)}`, 'empty']);
    expect(paths.every((p) => !p.startsWith('./') && !p.startsWith('/'))).to.equal(true);
    expect(paths.indexOf('etc/')).to.be.lessThan(paths.indexOf('etc/hello'));
    const first = new Header(a.subarray(0, 512));
    expect(first.uname).to.equal('');
    expect(first.gname).to.equal('');
  });

  it('clamps mtimes to SOURCE_DATE_EPOCH and keeps older ones', async () => {
    utimesSync(join(src.path, 'empty'), 500, 500);
    const epoch = T;
    const tar = await collect(packDirectory(src.path, { sourceDateEpoch: epoch }));
    const mtimes = new Map<string, number>();
    for await (const e of readTar(streamOf(tar))) mtimes.set(e.path, e.mtime);
    expect(mtimes.get('empty')).to.equal(500);
    expect(mtimes.get('etc/hello')).to.equal(epoch);
    expect([...mtimes.values()].every((m) => m <= epoch)).to.equal(true);
    // Clamping makes a touched tree pack identically.
    const before = sha256(tar);
    utimesSync(join(src.path, 'etc/hello'), T + 1000, T + 1000);
    expect(sha256(await collect(packDirectory(src.path, { sourceDateEpoch: epoch })))).to.equal(before);
    expect(sha256(await collect(packDirectory(src.path)))).to.not.equal(before);
  });

  it('replaces existing entries of another type when applied', async () => {
    mkdirSync(join(dst.path, 'empty')); // dir where the layer has a file
    writeFileSync(join(dst.path, 'empty', 'old'), 'x');
    writeFileSync(join(dst.path, 'etc'), 'file where the layer has a dir');
    symlinkSync('/nowhere', join(dst.path, 'tmp')); // symlink where the layer has a dir
    await applyLayer(dst.path, packDirectory(src.path));
    expect(await treeInfo(dst.path, { dirMtimes: true })).to.deep.equal(await treeInfo(src.path, { dirMtimes: true }));
  });

  it('stops with a CanceledError when the signal aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await applyLayer(dst.path, packDirectory(src.path), { signal: controller.signal }).catch((e: unknown) => e);
    expect(err).to.have.property('code', 'CANCELED');
  });
});
