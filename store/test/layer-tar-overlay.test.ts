/**
 * Overlay diffs against a real overlayfs mount: the changes made through the
 * merged view, packed from the upper dir, must reproduce the merged view
 * when applied flattened onto the lower, and when applied in overlay format
 * and mounted as a lower again. The tree diff (copying snapshotters) must do
 * the same from two full trees.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { applyLayer, packOverlayDiff, packTreeDiff, readTar } from '@tsbuild/store';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { collect, streamOf, treeInfo } from './layer-tar-support.js';

const mounted: string[] = [];
function mountOverlay(target: string, options: string): void {
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', options, target]);
  mounted.push(target);
}
function umountAll(): void {
  while (mounted.length > 0) execFileSync('umount', [mounted.pop()!]);
}

async function tarPaths(tar: Buffer): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readTar(streamOf(tar))) out.push(e.path);
  return out;
}

describe('layer tar: overlay and tree diffs', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let lower: string;
  let merged: string;
  let full: string;
  let mergedView: Awaited<ReturnType<typeof treeInfo>>;
  let upper: string;

  before(async () => {
    tmp = tempDir('tsbuild-overlay-');
    const d = (name: string) => {
      const p = join(tmp.path, name);
      mkdirSync(p);
      return p;
    };
    lower = makeBusyboxRootfs(d('lower'));
    mkdirSync(join(lower, 'opaque/deep'), { recursive: true });
    writeFileSync(join(lower, 'opaque/old'), 'old');
    writeFileSync(join(lower, 'opaque/deep/older'), 'older');
    mkdirSync(join(lower, 'gone/sub'), { recursive: true });
    writeFileSync(join(lower, 'gone/sub/f'), 'f');
    writeFileSync(join(lower, 'keep'), 'kept as is');
    upper = d('upper');
    const work = d('work');
    merged = d('merged');
    full = join(tmp.path, 'full');
    mountOverlay(merged, `lowerdir=${lower},upperdir=${upper},workdir=${work}`);
    try {
      unlinkSync(join(merged, 'etc/group')); // file deletion → char 0/0 whiteout
      rmSync(join(merged, 'gone'), { recursive: true }); // dir deletion
      rmSync(join(merged, 'opaque'), { recursive: true }); // recreated → opaque dir
      mkdirSync(join(merged, 'opaque'));
      writeFileSync(join(merged, 'opaque/new'), 'new');
      chmodSync(join(merged, 'etc/passwd'), 0o600); // metadata-only change (copy-up)
      mkdirSync(join(merged, 'added/nested'), { recursive: true });
      writeFileSync(join(merged, 'added/nested/file'), 'added');
      linkSync(join(merged, 'added/nested/file'), join(merged, 'added/hardlink'));
      symlinkSync('../bin/busybox', join(merged, 'added/sh'));
      writeFileSync(join(merged, 'added/suid'), 'x');
      chmodSync(join(merged, 'added/suid'), 0o4711);
      setAttributeSync(join(merged, 'added/suid'), 'user.note', 'kept');
      execFileSync('mkfifo', [join(merged, 'added/fifo')]);
      utimesSync(join(merged, 'added/nested/file'), 1_650_000_000, 1_650_000_000);
      mergedView = await treeInfo(merged, { dirMtimes: true });
      execFileSync('cp', ['-a', merged, full]);
    } finally {
      umountAll();
    }
  });
  after(() => {
    umountAll();
    tmp.cleanup();
  });

  it('packOverlayDiff writes whiteouts, opaque markers and the changes only', async () => {
    const tar = await collect(packOverlayDiff({ upperDir: upper, lowerDirs: [lower] }));
    const paths = await tarPaths(tar);
    for await (const e of readTar(streamOf(tar))) {
      // The upper's opaque dir carries trusted.overlay.opaque: overlay-private, never in a layer.
      expect([...e.xattrs.keys()].filter((k) => k.includes('overlay.')), e.path).to.deep.equal([]);
      if (e.path === 'added/suid') expect(e.xattrs.get('user.note')?.toString()).to.equal('kept');
    }
    expect(paths).to.include.members(['etc/', 'etc/.wh.group', 'etc/passwd', '.wh.gone', 'opaque/', 'opaque/.wh..wh..opq', 'opaque/new', 'added/hardlink']);
    expect(paths.indexOf('opaque/')).to.be.lessThan(paths.indexOf('opaque/.wh..wh..opq'));
    expect(paths).to.not.include('keep');
    expect(paths).to.not.include('bin/busybox');
  });

  it('applied flattened onto a copy of the lower, equals the merged view', async () => {
    const copy = join(tmp.path, 'flat');
    execFileSync('cp', ['-a', lower, copy]);
    await applyLayer(copy, packOverlayDiff({ upperDir: upper, lowerDirs: [lower] }));
    expect(await treeInfo(copy, { dirMtimes: true })).to.deep.equal(mergedView);
  });

  it('applied in overlay format and mounted over the lower, shows the merged view', async () => {
    const layer = join(tmp.path, 'ovl-layer');
    const view = join(tmp.path, 'ovl-view');
    mkdirSync(layer);
    mkdirSync(view);
    await applyLayer(layer, packOverlayDiff({ upperDir: upper, lowerDirs: [lower] }), { whiteouts: 'overlay' });
    mountOverlay(view, `lowerdir=${layer}:${lower}`);
    try {
      expect(await treeInfo(view, { dirMtimes: true })).to.deep.equal(mergedView);
    } finally {
      umountAll();
    }
  });

  it('packTreeDiff of lower → merged copy reproduces the merged view, without unchanged entries', async () => {
    const tar = await collect(packTreeDiff({ lowerDir: lower, upperDir: full }));
    const paths = await tarPaths(tar);
    expect(paths).to.include.members(['etc/.wh.group', '.wh.gone', 'opaque/.wh.deep', 'opaque/.wh.old', 'opaque/new', 'added/nested/file']);
    expect(paths).to.not.include('keep');
    expect(paths).to.not.include('bin/busybox');
    const copy = join(tmp.path, 'tree-flat');
    execFileSync('cp', ['-a', lower, copy]);
    await applyLayer(copy, streamOf(tar));
    expect(await treeInfo(copy, { dirMtimes: true })).to.deep.equal(mergedView);
  });

  it('packTreeDiff sees a same-size rewrite with the same mtime (compares content)', async () => {
    const a = join(tmp.path, 'same-a');
    const b = join(tmp.path, 'same-b');
    mkdirSync(a);
    writeFileSync(join(a, 'f'), 'aaaa');
    writeFileSync(join(a, 'same'), 'same');
    utimesSync(join(a, 'f'), 1000, 1000);
    utimesSync(join(a, 'same'), 1000, 1000);
    execFileSync('cp', ['-a', a, b]);
    writeFileSync(join(b, 'f'), 'bbbb');
    utimesSync(join(b, 'f'), 1000, 1000);
    utimesSync(b, 1000, 1000);
    utimesSync(a, 1000, 1000);
    expect(await tarPaths(await collect(packTreeDiff({ lowerDir: a, upperDir: b })))).to.deep.equal(['f']);
    expect(await tarPaths(await collect(packTreeDiff({ lowerDir: undefined, upperDir: b })))).to.deep.equal(['f', 'same']);
  });
});
