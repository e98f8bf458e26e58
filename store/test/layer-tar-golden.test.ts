/**
 * Golden digests of the three packers over fixed trees: many files of sizes
 * around the block and small-file boundaries, names that sort differently by
 * UTF-8 bytes than by UTF-16, hard links (across directories), symlinks,
 * xattrs, empty directories, FIFOs, devices, a long path, overlay whiteouts,
 * opaque and overlay-private xattrs, copied-up-but-unchanged directories.
 * Every mode, owner and mtime is set explicitly, so the bytes depend on the
 * packers only. The digests were computed with the implementation before the
 * synchronous walk (async read-ahead); any change to them is a change of
 * layer bytes, hence of every cached layer's digest.
 *
 * Needs root (ownership, device nodes, trusted.* xattrs).
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lchownSync, linkSync, lutimesSync, mkdirSync, lstatSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { setAttributeSync } from 'fs-xattr';
import { packDirectory, packOverlayDiff, packTreeDiff } from '@tsbuild/store';
import { tempDir } from '../../test/support/fixtures.js';

const T0 = 1_600_000_000;
const SMALL = 64 * 1024;
const SIZES = [0, 1, 511, 512, 513, SMALL - 1, SMALL, SMALL + 1, 200_000];

async function digestOf(stream: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of stream) h.update(chunk as Buffer);
  return h.digest('hex');
}

function body(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  const unit = Buffer.from(`${seed};`);
  for (let off = 0; off < size; off += unit.length) unit.copy(out, off);
  return out;
}

/** A file with fixed mode, owner and mtime (mtime in seconds, possibly fractional). */
function file(path: string, size: number, mode = 0o644, mtime = T0 + 0.25): void {
  writeFileSync(path, body(basename(path), size));
  lchownSync(path, 1000, 1000); // before chmod: chown clears set-id bits
  chmodSync(path, mode);
  utimesSync(path, mtime, mtime);
}

function symlink(target: string, path: string): void {
  symlinkSync(target, path);
  lchownSync(path, 0, 0);
  lutimesSync(path, T0, T0);
}

/** Fixes mode, owner (0:0 unless set) and mtime of every directory, deepest first (a child's mtime change would move its parent's). */
function settleDirs(root: string, mtime = T0 + 0.5): void {
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    if (lstatSync(p).isDirectory()) settleDirs(p, mtime);
  }
  utimesSync(root, mtime, mtime);
}

/** A directory (and missing parents, 0755 root:root), umask-independent. */
function dir(path: string, mode = 0o755, owner = 0): void {
  if (!existsSync(dirname(path))) dir(dirname(path));
  mkdirSync(path);
  lchownSync(path, owner, owner);
  chmodSync(path, mode);
}

/** The tree for packDirectory: everything a layer can hold. */
function makeFullTree(root: string): void {
  dir(root);
  for (let d = 0; d < 4; d++) {
    dir(join(root, `d${d}`), d === 2 ? 0o700 : 0o755, d);
    for (let f = 0; f < 40; f++) file(join(root, `d${d}/f${String(f).padStart(2, '0')}`), SIZES[(f + d) % SIZES.length]!);
  }
  // UTF-8 byte order differs from UTF-16 order for these (U+FF5E vs U+1F600 surrogates).
  dir(join(root, 'names'));
  for (const name of ['Z', 'a', '_', 'é', '～', '😀', 'a b', 'a.b']) file(join(root, 'names', name), 3);
  dir(join(root, 'empty'));
  dir(join(root, 'empty/nested/deeper'), 0o750);
  // Hard links: the first path in walk order is the target, across directories.
  file(join(root, 'd3/linked'), 700);
  linkSync(join(root, 'd3/linked'), join(root, 'd0/link-to-d3'));
  linkSync(join(root, 'd3/linked'), join(root, 'd3/linked2'));
  file(join(root, 'd1/big-linked'), 300_000);
  linkSync(join(root, 'd1/big-linked'), join(root, 'd2/big-link'));
  symlink('../d0/f00', join(root, 'd1/sym'));
  symlink('/absolute/dangling', join(root, 'dangling'));
  symlink('d3', join(root, 'dir-sym'));
  file(join(root, 'suid'), 10, 0o4755);
  file(join(root, 'sticky-ish'), 10, 0o1777);
  file(join(root, 'sgid'), 10, 0o2750);
  file(join(root, 'future'), 10, 0o644, 4_000_000_000); // clamped by sourceDateEpoch
  setAttributeSync(join(root, 'suid'), 'user.note', 'kept');
  setAttributeSync(join(root, 'suid'), 'user.bin', Buffer.from([0, 1, 2, 255]));
  setAttributeSync(join(root, 'd2'), 'user.dir', 'on a dir');
  setAttributeSync(join(root, 'd1/f05'), 'security.capability', Buffer.from('0100000200200000000000000000000000000000', 'hex'));
  setAttributeSync(join(root, 'd0/f01'), 'trusted.overlay.origin', 'private: not in packDirectory output either way');
  execFileSync('mkfifo', [join(root, 'fifo')]);
  execFileSync('mknod', [join(root, 'null'), 'c', '1', '3']);
  execFileSync('mknod', [join(root, 'blk'), 'b', '7', '200']);
  for (const p of ['fifo', 'null', 'blk']) {
    lchownSync(join(root, p), 0, 0);
    chmodSync(join(root, p), 0o640);
    utimesSync(join(root, p), T0, T0);
  }
  const long = join(root, 'long', 'x'.repeat(60), 'y'.repeat(60));
  dir(long);
  file(join(long, `${'z'.repeat(90)}.txt`), 5);
  settleDirs(root);
}

/** An overlay upper dir (by hand: char 0/0 whiteouts, opaque xattrs) and its lower. */
function makeOverlay(upper: string, lower: string): void {
  dir(lower);
  dir(join(lower, 'etc/deep'));
  dir(join(lower, 'var/cache'));
  dir(join(lower, 'opq'));
  dir(join(lower, 'uopq'));
  dir(upper);
  dir(join(upper, 'etc/deep')); // copied up, unchanged: written only as the parent of etc/deep/new
  file(join(upper, 'etc/deep/new'), 20);
  dir(join(upper, 'var/cache')); // copied up, unchanged, nothing changed below: left out
  execFileSync('mknod', [join(upper, 'var/gone'), 'c', '0', '0']);
  execFileSync('mknod', [join(upper, 'removed'), 'c', '0', '0']);
  dir(join(upper, 'opq'));
  setAttributeSync(join(upper, 'opq'), 'trusted.overlay.opaque', 'y');
  file(join(upper, 'opq/inside'), 4);
  dir(join(upper, 'uopq'));
  setAttributeSync(join(upper, 'uopq'), 'user.overlay.opaque', 'y');
  setAttributeSync(join(upper, 'uopq'), 'user.kept', 'yes');
  dir(join(upper, 'added'));
  for (let f = 0; f < 30; f++) file(join(upper, `added/f${f}`), SIZES[f % SIZES.length]!);
  setAttributeSync(join(upper, 'added/f1'), 'trusted.overlay.origin', Buffer.from([1, 2, 3]));
  setAttributeSync(join(upper, 'added/f2'), 'user.visible', 'v');
  linkSync(join(upper, 'added/f3'), join(upper, 'added/f3-link'));
  symlink('f0', join(upper, 'added/sym'));
  for (const p of ['var/gone', 'removed']) utimesSync(join(upper, p), T0, T0);
  settleDirs(upper, T0 + 0.5);
  settleDirs(lower, T0 + 0.5); // same mtimes to the nanosecond: etc/, etc/deep/, var/, var/cache/ unchanged
  utimesSync(join(upper, 'added'), T0 + 7, T0 + 7);
  utimesSync(upper, T0 + 7, T0 + 7);
}

/** Two full trees for packTreeDiff. */
function makeTreePair(lower: string, upper: string): void {
  for (const root of [lower, upper]) {
    dir(root);
    dir(join(root, 'same'));
    for (let f = 0; f < 25; f++) file(join(root, `same/f${f}`), SIZES[f % SIZES.length]!);
    dir(join(root, 'mixed'));
    file(join(root, 'mixed/kept'), 100);
    symlink('kept', join(root, 'mixed/sym'));
  }
  file(join(lower, 'mixed/gone'), 3);
  dir(join(lower, 'gone-dir/sub'));
  file(join(lower, 'gone-dir/sub/f'), 3);
  file(join(upper, 'mixed/rewritten'), 100);
  file(join(lower, 'mixed/rewritten'), 100);
  writeFileSync(join(upper, 'mixed/rewritten'), body('other', 100)); // same size, same mtime below: content compare
  utimesSync(join(upper, 'mixed/rewritten'), T0 + 0.25, T0 + 0.25);
  file(join(upper, 'mixed/chmod'), 10, 0o600);
  file(join(lower, 'mixed/chmod'), 10, 0o644);
  file(join(upper, 'mixed/new-big'), 300_000);
  setAttributeSync(join(upper, 'mixed/kept'), 'user.new', 'x');
  symlink('elsewhere', join(upper, 'mixed/sym2'));
  symlink('kept', join(lower, 'mixed/sym2'));
  dir(join(upper, 'type-change'));
  file(join(lower, 'type-change'), 3);
  dir(join(upper, 'new-dir/a/b'));
  file(join(upper, 'new-dir/a/b/c'), 513);
  settleDirs(lower);
  settleDirs(upper);
  utimesSync(join(upper, 'mixed'), T0 + 9, T0 + 9);
}

describe('layer tar: golden digests of the packers', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  before(function () {
    tmp = tempDir('tsbuild-golden-');
    makeFullTree(join(tmp.path, 'full'));
    makeOverlay(join(tmp.path, 'upper'), join(tmp.path, 'lower'));
    makeTreePair(join(tmp.path, 'tree-lower'), join(tmp.path, 'tree-upper'));
  });
  after(() => tmp?.cleanup());

  it('packDirectory, packOverlayDiff and packTreeDiff give the same bytes as before', async () => {
    const upperDir = join(tmp.path, 'upper');
    const lowerDirs = [join(tmp.path, 'lower')];
    const treeUpper = join(tmp.path, 'tree-upper');
    const got = {
      directory: await digestOf(packDirectory(join(tmp.path, 'full'))),
      directoryClamped: await digestOf(packDirectory(join(tmp.path, 'full'), { sourceDateEpoch: T0 + 100 })),
      overlay: await digestOf(packOverlayDiff({ upperDir, lowerDirs })),
      overlayNoLowers: await digestOf(packOverlayDiff({ upperDir, lowerDirs: [] })),
      tree: await digestOf(packTreeDiff({ lowerDir: join(tmp.path, 'tree-lower'), upperDir: treeUpper })),
      treeNoLower: await digestOf(packTreeDiff({ lowerDir: undefined, upperDir: treeUpper })),
    };
    expect(got).to.deep.equal({
      directory: 'cb57cf8ef46fc0cffcd7791e6aefc8a1529064e11101e0020094e2708cd39aab',
      directoryClamped: '9ed982f421b55fc9edfddad83c2a7a85ce50f9c62912708f0c2f302cad78c339',
      overlay: '74856eb3cf70b43211a4966b9517d139687ed142d7704839c21948721d187ef3',
      overlayNoLowers: '11819ae506815637a4c020a5438f176c023d37dbfa3b3fffdea6839fd8b1aa26',
      tree: 'f1a7ec8c6c5f2c2ea143876c94678411582b63f884a3db581293f16bf69ee8d5',
      treeNoLower: '05c5360664a63cd72800d042919d6ff675639a8055db7e871a1eff6379a3abbf',
    });
  });
});
