/**
 * The build's own loop end to end, with real parts only: a busybox rootfs is
 * packed and written as layer 1; a container-style change is made through an
 * overlay mount of a snapshot on top of it (chroot busybox sh), its upper dir
 * is packed as layer 2; both are unpacked into a fresh snapshotter root and a
 * mounted view runs busybox again to see the result.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { LocalContentStore } from '../src/content/local-content-store.js';
import { writeLayer } from '../src/layer/layer-writer.js';
import { packDirectory, packOverlayDiff } from '../src/layer/tar-pack.js';
import { OverlaySnapshotter } from '../src/snapshot/overlay-snapshotter.js';
import { CopySnapshotter } from '../src/snapshot/copy-snapshotter.js';
import { unpackLayers } from '../src/snapshot/unpack.js';
import { isRoot, makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { withMounted } from './snapshot-suite.js';

if (!isRoot) throw new Error('unpack round-trip tests chroot and mount, and need root');

const sh = (root: string, script: string) => execFileSync('chroot', [root, '/bin/sh', '-c', script], { encoding: 'utf8' });

describe('unpack: round trip through pack, an overlay change, writeLayer and unpackLayers', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.cleanup());

  it('a busybox image with a RUN-style change unpacks (overlay and copy) to a tree busybox runs in', async () => {
    const store = new LocalContentStore(join(tmp.path, 'store'));
    const rootfs = makeBusyboxRootfs(join(tmp.path, 'rootfs'));
    const l1 = await writeLayer(packDirectory(rootfs, { sourceDateEpoch: 0 }), store, { compression: 'gzip' });

    // "RUN" on top of layer 1, on an overlay snapshot, as the worker will do.
    const build = new OverlaySnapshotter(join(tmp.path, 'build'));
    await unpackLayers({ provider: store, snapshotter: build, layers: [l1.descriptor], diffIDs: [l1.diffID] });
    const mounts = await build.prepare('run', l1.diffID);
    await withMounted(mounts, (root) => sh(root, 'echo built > /etc/motd && rm /etc/group && mkdir -p /app && echo x > /app/x'));
    const lowerDirs = (mounts[0]!.options.find((o) => o.startsWith('lowerdir='))?.slice('lowerdir='.length) ?? '').split(':');
    const l2 = await writeLayer(packOverlayDiff({ upperDir: build.dir('run'), lowerDirs }), store, { compression: 'zstd' });

    for (const sn of [new OverlaySnapshotter(join(tmp.path, 'o')), new CopySnapshotter(join(tmp.path, 'c'))]) {
      const res = await unpackLayers({ provider: store, snapshotter: sn, layers: [l1.descriptor, l2.descriptor], diffIDs: [l1.diffID, l2.diffID] });
      expect(res.unpacked, sn.kind).to.equal(2);
      await withMounted(await sn.view('check', res.chainId), (root) => {
        expect(sh(root, 'cat /etc/motd /app/x; [ -e /etc/group ] && echo group-present || echo group-gone; ls /bin/ls && echo ok')).to.equal(
          'built\nx\ngroup-gone\n/bin/ls\nok\n',
        );
      });
    }
  });
});
