import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Descriptor, Digest } from '@tsbuild/core';
import { LocalContentStore } from '../src/content/local-content-store.js';
import { writeLayer } from '../src/layer/layer-writer.js';
import { chainIds } from '../src/snapshot/chain-id.js';
import { CopySnapshotter } from '../src/snapshot/copy-snapshotter.js';
import { OverlaySnapshotter } from '../src/snapshot/overlay-snapshotter.js';
import { unpackLayers } from '../src/snapshot/unpack.js';
import type { ContentProvider, Snapshotter } from '../src/types.js';
import { isRoot, tempDir } from '../../test/support/fixtures.js';
import { sha256Of, tarStream } from './layer-fixtures.js';
import { withMounted } from './snapshot-suite.js';

if (!isRoot) throw new Error('unpack tests mount filesystems and need root');

function files(dir: string, spec: Record<string, string | null>): string {
  for (const [path, content] of Object.entries(spec)) {
    const p = join(dir, path);
    if (content === null) mkdirSync(p, { recursive: true });
    else {
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, content);
    }
  }
  return dir;
}

/** Counts blob reads of a real store, to prove reuse re-applies nothing. */
class CountingProvider implements ContentProvider {
  reads = 0;
  constructor(private readonly inner: ContentProvider) {}
  info(d: Digest) {
    return this.inner.info(d);
  }
  reader(d: Digest, o?: { signal?: AbortSignal; start?: number }): Promise<Readable> {
    this.reads++;
    return this.inner.reader(d, o);
  }
}

async function list(sn: Snapshotter): Promise<string[]> {
  const keys: string[] = [];
  for await (const i of sn.walk()) keys.push(`${i.kind}:${i.key}`);
  return keys.sort();
}

for (const [name, make] of [
  ['overlay', (root: string) => new OverlaySnapshotter(root)],
  ['copy', (root: string) => new CopySnapshotter(root)],
] as const) {
  describe(`unpack: unpackLayers onto the ${name} snapshotter`, () => {
    let tmp: ReturnType<typeof tempDir>;
    let store: LocalContentStore;
    let layers: Descriptor[];
    let diffIDs: Digest[];

    before(async () => {
      tmp = tempDir();
      store = new LocalContentStore(join(tmp.path, 'store'));
      const l1 = files(join(tmp.path, 'l1'), {
        'etc/a': 'a1',
        'etc/b': 'b1',
        'opt/keep/x': 'x',
        'opt/keep/sub/y': 'y',
        'del-me': 'gone soon',
      });
      // Whiteouts are ordinary entries in an OCI tar: `.wh.<name>` deletes, `.wh..wh..opq` makes a dir opaque.
      const l2 = files(join(tmp.path, 'l2'), { 'etc/a': 'a2', 'etc/.wh.b': '', 'etc/c': 'c2', '.wh.del-me': '' });
      const l3 = files(join(tmp.path, 'l3'), { 'opt/keep/.wh..wh..opq': '', 'opt/keep/z': 'z3', 'etc/d': 'd3' });
      const written = [
        await writeLayer(tarStream(l1), store, { compression: 'gzip' }),
        await writeLayer(tarStream(l2), store, { compression: 'zstd' }),
        await writeLayer(tarStream(l3), store, { compression: 'none' }),
      ];
      layers = written.map((w) => w.descriptor);
      diffIDs = written.map((w) => w.diffID);
    });
    after(() => tmp.cleanup());

    let root: ReturnType<typeof tempDir>;
    let sn: Snapshotter;
    beforeEach(() => {
      root = tempDir();
      sn = make(root.path);
    });
    afterEach(() => root.cleanup());

    it('unpacks 3 layers (adds, a deletion, an opaque dir); a view of the top chain id shows the merged tree', async () => {
      const provider = new CountingProvider(store);
      const res = await unpackLayers({ provider, snapshotter: sn, layers, diffIDs });
      expect(res).to.deep.equal({ chainId: chainIds(diffIDs)[2], unpacked: 3, reused: 0 });
      expect(provider.reads).to.equal(3);
      expect(await list(sn)).to.deep.equal(chainIds(diffIDs).map((c) => `committed:${c}`).sort());
      await withMounted(await sn.view('top', res.chainId), (d) => {
        expect(readFileSync(join(d, 'etc/a'), 'utf8')).to.equal('a2');
        expect(existsSync(join(d, 'etc/b')), 'etc/b whited out').to.equal(false);
        expect(readFileSync(join(d, 'etc/c'), 'utf8')).to.equal('c2');
        expect(readFileSync(join(d, 'etc/d'), 'utf8')).to.equal('d3');
        expect(existsSync(join(d, 'del-me'))).to.equal(false);
        expect(readdirSync(join(d, 'opt/keep')).sort(), 'opaque dir hides lower entries').to.deep.equal(['z']);
        expect(readdirSync(join(d, 'etc')).sort()).to.deep.equal(['a', 'c', 'd']);
        expect(readdirSync(d).sort()).to.deep.equal(['etc', 'opt']);
      });
      // The middle layer still shows its own state.
      await withMounted(await sn.view('mid', chainIds(diffIDs)[1]), (d) => {
        expect(readdirSync(join(d, 'opt/keep')).sort()).to.deep.equal(['sub', 'x']);
      });
    });

    it('unpacking again reuses every layer and reads no blob', async () => {
      await unpackLayers({ provider: store, snapshotter: sn, layers, diffIDs });
      const before = await list(sn);
      const provider = new CountingProvider(store);
      const res = await unpackLayers({ provider, snapshotter: sn, layers, diffIDs });
      expect(res.unpacked).to.equal(0);
      expect(res.reused).to.equal(3);
      expect(provider.reads).to.equal(0);
      expect(await list(sn)).to.deep.equal(before);
    });

    it('an image sharing the base layers unpacks only what differs', async () => {
      await unpackLayers({ provider: store, snapshotter: sn, layers: layers.slice(0, 2), diffIDs: diffIDs.slice(0, 2) });
      const res = await unpackLayers({ provider: store, snapshotter: sn, layers, diffIDs });
      expect([res.unpacked, res.reused]).to.deep.equal([1, 2]);
    });

    it('concurrent unpacks of the same image both succeed with one copy of each layer', async () => {
      const [a, b] = await Promise.all([
        unpackLayers({ provider: store, snapshotter: sn, layers, diffIDs }),
        unpackLayers({ provider: store, snapshotter: make(root.path), layers, diffIDs }),
      ]);
      expect(a.chainId).to.equal(b.chainId);
      expect(a.unpacked + a.reused).to.equal(3);
      expect(b.unpacked + b.reused).to.equal(3);
      expect(await list(sn)).to.deep.equal(chainIds(diffIDs).map((c) => `committed:${c}`).sort());
    });

    it('a wrong diffID fails with DigestMismatchError and leaves no snapshot for that layer', async () => {
      const bad = [diffIDs[0]!, sha256Of(Buffer.from('not the layer')), diffIDs[2]!];
      const err = await unpackLayers({ provider: store, snapshotter: sn, layers, diffIDs: bad }).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.name).to.equal('DigestMismatchError');
      expect(await list(sn)).to.deep.equal([`committed:${diffIDs[0]}`]);
    });

    it('abort during the second layer is a CanceledError and leaves only the first layer', async () => {
      const ac = new AbortController();
      let reads = 0;
      const provider: ContentProvider = {
        info: (d) => store.info(d),
        reader: (d, o) => {
          if (++reads === 2) ac.abort();
          return store.reader(d, o);
        },
      };
      const err = await unpackLayers({ provider, snapshotter: sn, layers, diffIDs, signal: ac.signal }).then(
        () => undefined,
        (e: { code?: string }) => e,
      );
      expect(err?.code).to.equal('CANCELED');
      expect(await list(sn)).to.deep.equal([`committed:${diffIDs[0]}`]);
    });

    it('abort before the first layer is a CanceledError and unpacks nothing', async () => {
      const ac = new AbortController();
      ac.abort();
      const err = await unpackLayers({ provider: store, snapshotter: sn, layers, diffIDs, signal: ac.signal }).then(
        () => undefined,
        (e: { code?: string }) => e,
      );
      expect(err?.code).to.equal('CANCELED');
      expect(await list(sn)).to.deep.equal([]);
    });
  });
}
