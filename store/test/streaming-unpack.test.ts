/**
 * StreamingUnpack: layers applied from their blob streams while the content
 * store ingests them (in any order), committed in layer order; a blob whose
 * digest is wrong leaves neither blob nor snapshot; the copy snapshotter
 * unpacks from the store after the download.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { DigestMismatchError, type Descriptor, type Digest } from '@tsbuild/core';
import { LocalContentStore } from '../src/content/local-content-store.js';
import { writeLayer } from '../src/layer/layer-writer.js';
import { chainIds } from '../src/snapshot/chain-id.js';
import { CopySnapshotter } from '../src/snapshot/copy-snapshotter.js';
import { OverlaySnapshotter } from '../src/snapshot/overlay-snapshotter.js';
import { StreamingUnpack } from '../src/snapshot/streaming-unpack.js';
import type { Snapshotter } from '../src/types.js';
import { isRoot, tempDir } from '../../test/support/fixtures.js';
import { tarStream } from './layer-fixtures.js';
import { withMounted } from './snapshot-suite.js';

if (!isRoot) throw new Error('unpack tests mount filesystems and need root');

function files(dir: string, spec: Record<string, string>): string {
  for (const [path, content] of Object.entries(spec)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

async function list(sn: Snapshotter): Promise<string[]> {
  const keys: string[] = [];
  for await (const i of sn.walk()) keys.push(`${i.kind}:${i.key.replace(/^extract-.*/, 'extract')}`);
  return keys.sort();
}

describe('unpack: StreamingUnpack applies layers while their blobs are ingested', () => {
  let tmp: ReturnType<typeof tempDir>;
  let source: LocalContentStore;
  let layers: Descriptor[];
  let diffIDs: Digest[];
  before(async () => {
    tmp = tempDir();
    source = new LocalContentStore(join(tmp.path, 'source'));
    const l1 = files(join(tmp.path, 'l1'), { 'etc/a': 'a1', 'etc/b': 'b1', 'opt/keep/x': 'x' });
    const l2 = files(join(tmp.path, 'l2'), { 'etc/a': 'a2', 'etc/.wh.b': '' });
    const l3 = files(join(tmp.path, 'l3'), { 'opt/keep/.wh..wh..opq': '', 'opt/keep/z': 'z3' });
    const written = [
      await writeLayer(tarStream(l1), source, { compression: 'gzip' }),
      await writeLayer(tarStream(l2), source, { compression: 'zstd' }),
      await writeLayer(tarStream(l3), source, { compression: 'gzip' }),
    ];
    layers = written.map((w) => w.descriptor);
    diffIDs = written.map((w) => w.diffID);
  });
  after(() => tmp.cleanup());

  let root: ReturnType<typeof tempDir>;
  let store: LocalContentStore;
  beforeEach(() => { root = tempDir(); store = new LocalContentStore(join(root.path, 'content')); });
  afterEach(() => root.cleanup());

  const blob = (d: Descriptor) => source.reader(d.digest);
  const expected = (d: Descriptor) => ({ digest: d.digest, size: d.size });

  it('overlay: applies each layer as it streams (top first here), commits them in order on finish, and the merged tree is right', async () => {
    const sn = new OverlaySnapshotter(join(root.path, 'snapshots'));
    const unpack = new StreamingUnpack({ provider: store, snapshotter: sn, layers, diffIDs });
    for (const l of [...layers].reverse()) await unpack.ingest(store, await blob(l), expected(l));
    // Applied before finish, each into a snapshot of its own.
    expect(await list(sn)).to.deep.equal(['active:extract', 'active:extract', 'active:extract']);
    const res = await unpack.finish();
    expect(res).to.deep.equal({ chainId: chainIds(diffIDs)[2], unpacked: 3, reused: 0 });
    expect(await list(sn)).to.deep.equal(chainIds(diffIDs).map((c) => `committed:${c}`).sort());
    for (const l of layers) expect((await store.info(l.digest)).size).to.equal(l.size);
    await withMounted(await sn.view('top', res.chainId), (d) => {
      expect(readFileSync(join(d, 'etc/a'), 'utf8')).to.equal('a2');
      expect(existsSync(join(d, 'etc/b')), 'etc/b whited out').to.equal(false);
      expect(readdirSync(join(d, 'opt/keep')), 'opaque dir hides lower entries').to.deep.equal(['z']);
    });
  });

  it('overlay: a blob whose digest is wrong fails its ingest and leaves no snapshot; finish unpacks the rest from the store and reuses what is committed', async () => {
    const sn = new OverlaySnapshotter(join(root.path, 'snapshots'));
    const bad = new StreamingUnpack({ provider: store, snapshotter: sn, layers, diffIDs });
    const bytes = Buffer.concat(await (await blob(layers[0]!)).toArray());
    bytes[bytes.length - 5] ^= 0xff;
    const err = await bad.ingest(store, Readable.from([bytes]), expected(layers[0]!)).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DigestMismatchError);
    expect(await list(sn)).to.deep.equal([]);
    await bad.discard();

    const unpack = new StreamingUnpack({ provider: store, snapshotter: sn, layers, diffIDs });
    await unpack.ingest(store, await blob(layers[0]!), expected(layers[0]!));
    await unpack.finish().catch(() => undefined); // layers 2 and 3 are not in the store yet
    expect(await list(sn)).to.deep.equal([`committed:${chainIds(diffIDs)[0]}`]);
    for (const l of layers.slice(1)) await store.ingest(await blob(l), expected(l));
    const res = await new StreamingUnpack({ provider: store, snapshotter: sn, layers, diffIDs }).finish();
    expect([res.unpacked, res.reused]).to.deep.equal([2, 1]);
  });

  it('copy: ingests only, then unpacks every layer in order from the store on finish', async () => {
    const sn = new CopySnapshotter(join(root.path, 'snapshots'));
    const unpack = new StreamingUnpack({ provider: store, snapshotter: sn, layers, diffIDs });
    for (const l of layers) await unpack.ingest(store, await blob(l), expected(l));
    expect(await list(sn)).to.deep.equal([]);
    const res = await unpack.finish();
    expect(res.unpacked).to.equal(3);
    expect(readFileSync(join(sn.dir(res.chainId), 'etc/a'), 'utf8')).to.equal('a2');
    expect(existsSync(join(sn.dir(res.chainId), 'etc/b'))).to.equal(false);
  });
});
