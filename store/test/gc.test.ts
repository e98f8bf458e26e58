import { expect } from 'chai';
import { existsSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { CanceledError, MediaType, NotFoundError, FailedPreconditionError, UnavailableError, formatOwner, sha256, type Descriptor, type Digest } from '@tsbuild/core';
import {
  FileLeaseManager,
  LocalContentStore,
  OciLayoutImageStore,
  chainIds,
  du,
  fsck,
  prune,
  readJson,
  reclaimStoreLeftovers,
  writeImage,
  type GcRootProvider,
  type GcRoots,
  type Mount,
  type SnapshotInfo,
  type Snapshotter,
} from '@tsbuild/store';
import { tempDir } from '../../test/support/fixtures.js';

/**
 * A directory-per-snapshot Snapshotter with just the bookkeeping prune needs
 * (walk, stat, remove refusing parents). The real snapshotters live in
 * store/src/snapshot and have their own suite.
 */
class DirSnapshotter implements Snapshotter {
  readonly infos = new Map<string, SnapshotInfo>();
  readonly removed: string[] = [];
  constructor(private readonly root: string) {}
  add(key: string, kind: SnapshotInfo['kind'], parent?: string, createdAt = new Date(0).toISOString()): void {
    mkdirSync(this.dir(key), { recursive: true });
    writeFileSync(join(this.dir(key), 'f'), key);
    utimesSync(this.dir(key), new Date(createdAt), new Date(createdAt));
    this.infos.set(key, { key, kind, createdAt, ...(parent ? { parent } : {}) });
  }
  dir(key: string): string {
    return join(this.root, 'snaps', encodeURIComponent(key));
  }
  async remove(key: string): Promise<void> {
    if (!this.infos.has(key)) throw new NotFoundError(key);
    if ([...this.infos.values()].some((i) => i.parent === key)) throw new FailedPreconditionError(`${key} has children`);
    this.infos.delete(key);
    this.removed.push(key);
    rmSync(this.dir(key), { recursive: true });
  }
  async stat(key: string): Promise<SnapshotInfo> {
    const i = this.infos.get(key);
    if (!i) throw new NotFoundError(key);
    return i;
  }
  async *walk(): AsyncIterable<SnapshotInfo> {
    yield* [...this.infos.values()];
  }
  prepare(): Promise<Mount[]> { throw new Error('unused'); }
  view(): Promise<Mount[]> { throw new Error('unused'); }
  mounts(): Promise<Mount[]> { throw new Error('unused'); }
  commit(): Promise<void> { throw new Error('unused'); }
}

/** A holder outside the store (as the build cache is) reporting fixed roots; `calls` counts the marks that asked. */
function fixedRoots(roots: GcRoots, usage = { count: 0, bytes: 0 }): GcRootProvider & { calls: number } {
  const provider = {
    calls: 0,
    async gcRoots() {
      provider.calls++;
      return roots;
    },
    async diskUsage() {
      return usage;
    },
  };
  return provider;
}

const OLD = new Date(Date.now() - 2 * 3600_000);

describe('gc: prune, du, fsck', () => {
  let dir: ReturnType<typeof tempDir>;
  let content: LocalContentStore;
  let images: OciLayoutImageStore;
  let leases: FileLeaseManager;
  let root: string;
  beforeEach(() => {
    dir = tempDir('tsbuild-gc-');
    root = dir.path;
    content = new LocalContentStore(root);
    images = new OciLayoutImageStore(root);
    leases = new FileLeaseManager(root);
  });
  afterEach(() => dir.cleanup());

  async function blob(s: string, old = true): Promise<Digest> {
    const { digest } = await content.ingest(Readable.from([Buffer.from(s)]));
    if (old) utimesSync(content.blobPath(digest), OLD, OLD);
    return digest;
  }

  async function tagged(name: string, layerText: string): Promise<{ manifest: Descriptor; layer: Digest; diffIDs: Digest[] }> {
    const layer = await blob(layerText);
    const diffIDs = [sha256(`${layerText}-diff`)];
    const manifest = await writeImage(content, {
      config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIDs } },
      layers: [{ mediaType: MediaType.OciLayerGzip, digest: layer, size: layerText.length }],
    });
    await images.put(name, manifest);
    return { manifest, layer, diffIDs };
  }

  it('sweeps only unreachable, old blobs; keeps tags, live leases, root providers\' blobs and young blobs', async () => {
    const img = await tagged('app:1', 'layer-a');
    const orphan = await blob('orphan');
    const young = await blob('young', false);
    const leased = await blob('leased');
    const crashedLeased = await blob('crashed-lease');
    const cached = await blob('cached');
    const lease = await leases.create({ id: 'live' });
    await leases.addResource(lease.id, { type: 'content', digest: leased });
    mkdirSync(join(root, 'leases'), { recursive: true });
    writeFileSync(join(root, 'leases/dead.json'), JSON.stringify({ id: 'dead', createdAt: OLD.toISOString(), pid: 2 ** 22 + 1, resources: [{ type: 'content', digest: crashedLeased }] }));
    const cache = fixedRoots({ blobs: [cached], snapshots: [] });
    mkdirSync(join(root, 'ingest'), { recursive: true });
    writeFileSync(join(root, 'ingest/stale'), 'xx');
    utimesSync(join(root, 'ingest/stale'), OLD, OLD);
    writeFileSync(join(root, 'ingest/inflight'), 'yy');
    // make the image's own blobs old too: reachability, not age, keeps them
    const all: Digest[] = [];
    for await (const b of content.walk()) all.push(b.digest);
    for (const d of all) if (d !== young) utimesSync(content.blobPath(d), OLD, OLD);

    const result = await prune({ root, content, images, leases, roots: [cache] });
    expect(result.blobsRemoved).to.equal(2);
    expect(result.bytesReclaimed).to.equal('orphan'.length + 'crashed-lease'.length + 2);
    expect(existsSync(content.blobPath(orphan))).to.equal(false);
    expect(existsSync(content.blobPath(crashedLeased))).to.equal(false);
    for (const kept of [young, leased, cached, img.layer, img.manifest.digest]) expect(existsSync(content.blobPath(kept)), kept).to.equal(true);
    expect(existsSync(join(root, 'ingest/stale'))).to.equal(false);
    expect(existsSync(join(root, 'ingest/inflight'))).to.equal(true);
    // a build that ingested `young` just before the prune can still tag it
    await images.put('later', { mediaType: MediaType.OciLayerGzip, digest: young, size: 5 });
    // two prunes at once serialize on the gc lock and both succeed
    const [a, b] = await Promise.all([prune({ root, content, images, leases, roots: [cache] }), prune({ root, content, images, leases, roots: [cache] })]);
    expect(a.blobsRemoved + b.blobsRemoved).to.equal(0);
  });

  it('sweeps unreachable committed snapshots children first, keeping image chains, leases, actives and their parents', async () => {
    const img = await tagged('app:1', 'layer-a');
    const [chain] = chainIds(img.diffIDs);
    const snaps = new DirSnapshotter(root);
    snaps.add(chain!, 'committed');
    snaps.add('orphan-parent', 'committed');
    snaps.add('orphan-child', 'committed', 'orphan-parent');
    snaps.add('base-of-active', 'committed');
    snaps.add('build-123', 'active', 'base-of-active');
    snaps.add('leased', 'committed');
    snaps.add('fresh', 'committed', undefined, new Date().toISOString());
    await leases.addResource((await leases.create({ id: 'b' })).id, { type: 'snapshot', key: 'leased' });
    const usage = await du({ root, content, images, leases, roots: [], snapshotter: snaps });
    const snapUsage = usage.find((u) => u.kind === 'snapshots')!;
    expect(snapUsage.count).to.equal(7);
    // du counts with no grace window, so the just-created snapshot is reclaimable there; prune's grace keeps it
    expect(snapUsage.reclaimableBytes).to.equal('orphan-parent'.length + 'orphan-child'.length + 'fresh'.length);
    const result = await prune({ root, content, images, leases, roots: [], snapshotter: snaps });
    expect(result.snapshotsRemoved).to.equal(2);
    expect(snaps.removed).to.deep.equal(['orphan-child', 'orphan-parent']);
    expect([...snaps.infos.keys()].sort()).to.deep.equal([chain!, 'base-of-active', 'build-123', 'fresh', 'leased'].sort());
  });

  it('keeps exactly what the root providers report (snapshots with their parents), asks them at every mark, and collects the rest', async () => {
    const kept = await blob('kept-by-cache');
    const keptByOther = await blob('kept-by-another-holder');
    const dropped = await blob('named-by-nobody');
    const snaps = new DirSnapshotter(root);
    snaps.add('cache-parent', 'committed');
    snaps.add('cache-snap', 'committed', 'cache-parent');
    snaps.add('stray', 'committed');
    const cache = fixedRoots({ blobs: [kept], snapshots: ['cache-snap'] }, { count: 3, bytes: 1234 });
    const other = fixedRoots({ blobs: [keptByOther], snapshots: [] });
    const usage = await du({ root, content, images, leases, roots: [cache, other], snapshotter: snaps });
    const byKind = Object.fromEntries(usage.map((u) => [u.kind, u]));
    expect(byKind.cache).to.deep.equal({ kind: 'cache', count: 3, bytes: 1234, reclaimableBytes: 0 });
    expect(byKind.other!.reclaimableBytes).to.equal('named-by-nobody'.length);
    expect(byKind.snapshots!.reclaimableBytes).to.equal('stray'.length);

    const result = await prune({ root, content, images, leases, roots: [cache, other], snapshotter: snaps });
    expect(result.blobsRemoved).to.equal(1);
    expect(existsSync(content.blobPath(dropped))).to.equal(false);
    for (const d of [kept, keptByOther]) expect(existsSync(content.blobPath(d)), d).to.equal(true);
    expect(snaps.removed).to.deep.equal(['stray']);
    expect(cache.calls).to.equal(2);

    // What a provider stops reporting goes at the next prune: nothing of its own is kept behind its back.
    const again = await prune({ root, content, images, leases, roots: [fixedRoots({ blobs: [], snapshots: [] }), other], snapshotter: snaps });
    expect(again.blobsRemoved).to.equal(1);
    expect(existsSync(content.blobPath(kept))).to.equal(false);
    expect(existsSync(content.blobPath(keptByOther))).to.equal(true);
    expect(snaps.removed).to.deep.equal(['stray', 'cache-snap', 'cache-parent']);
  });

  it('a root provider that cannot report fails the prune, and nothing is removed', async () => {
    const orphan = await blob('orphan');
    const broken: GcRootProvider = {
      gcRoots: async () => {
        throw new UnavailableError('cache records unreadable');
      },
      diskUsage: async () => ({ count: 0, bytes: 0 }),
    };
    expect(await prune({ root, content, images, roots: [broken] }).catch((e: unknown) => e)).to.be.instanceOf(UnavailableError);
    expect(existsSync(content.blobPath(orphan))).to.equal(true);
    expect(existsSync(join(root, 'gc.lock'))).to.equal(false);
  });

  it('du reports images, layers and reclaimable other blobs', async () => {
    const img = await tagged('app:1', 'layer-a');
    await blob('orphan');
    const usage = await du({ root, content, images, leases, roots: [] });
    const byKind = Object.fromEntries(usage.map((u) => [u.kind, u]));
    expect(byKind.layers).to.deep.equal({ kind: 'layers', count: 1, bytes: 'layer-a'.length, reclaimableBytes: 0 });
    expect(byKind.images!.count).to.equal(2);
    const manifest = await readJson<{ config: Descriptor }>(content, img.manifest);
    expect(byKind.images!.bytes).to.equal(img.manifest.size + manifest.config.size);
    expect(byKind.other).to.deep.equal({ kind: 'other', count: 1, bytes: 'orphan'.length, reclaimableBytes: 'orphan'.length });
  });

  it('fsck finds a corrupt blob (blob-digest) and a dangling tag; repair removes both and ingest leftovers', async () => {
    const img = await tagged('app:1', 'layer-a');
    writeFileSync(content.blobPath(img.layer), 'tampered');
    await images.put('ghost:1', { mediaType: MediaType.OciManifest, digest: sha256('no such manifest'), size: 10 });
    mkdirSync(join(root, 'ingest'), { recursive: true });
    writeFileSync(join(root, 'ingest/left'), 'x');
    const report = await fsck({ root, content, images, ingestMaxAgeMs: 0 });
    expect(report.blobsChecked).to.equal(3);
    expect(report.refsChecked).to.equal(2);
    expect(report.problems.map((p) => [p.kind, p.subject])).to.deep.equal([
      ['blob-digest', img.layer],
      ['blob-missing', img.layer],
      ['ref-dangling', 'ghost:1'],
      ['ingest-leftover', join(root, 'ingest/left')],
    ]);
    expect(report.problems.every((p) => !p.repaired)).to.equal(true);
    expect(existsSync(content.blobPath(img.layer))).to.equal(true);

    const repaired = await fsck({ root, content, images, ingestMaxAgeMs: 0, repair: true });
    expect(repaired.problems.filter((p) => p.repaired).map((p) => p.kind)).to.deep.equal(['blob-digest', 'ref-dangling', 'ingest-leftover']);
    expect(existsSync(content.blobPath(img.layer))).to.equal(false);
    expect((await images.list()).map((r) => r.name)).to.deep.equal(['app:1']);
    const after = await fsck({ root, content, images, ingestMaxAgeMs: 0 });
    expect(after.problems.map((p) => p.kind)).to.deep.equal(['blob-missing']);
  });

  it('an aborted prune or fsck throws CanceledError and removes nothing', async () => {
    const orphan = await blob('orphan');
    const ac = new AbortController();
    ac.abort();
    expect(await prune({ root, content, images, roots: [], signal: ac.signal }).catch((e: unknown) => e)).to.be.instanceOf(CanceledError);
    expect(await fsck({ root, content, images, repair: true, signal: ac.signal }).catch((e: unknown) => e)).to.be.instanceOf(CanceledError);
    expect(existsSync(content.blobPath(orphan))).to.equal(true);
    expect(existsSync(join(root, 'gc.lock'))).to.equal(false);
  });

  it('fsck reports an unparsable index.json', async () => {
    await tagged('app:1', 'layer-a');
    writeFileSync(join(root, 'index.json'), '{not json');
    const report = await fsck({ root, content, images });
    expect(report.problems.map((p) => p.kind)).to.deep.equal(['index']);
  });

  describe('issue 13: what dead processes left', () => {
    // A pid with a start time it never had: the maker is gone (and a recycled pid is not taken for it).
    const dead = `${process.pid}-1`;
    const live = formatOwner();

    async function leftovers(): Promise<DirSnapshotter> {
      const base = await tagged('app:1', 'layer-a');
      void base;
      mkdirSync(join(root, 'leases'), { recursive: true });
      writeFileSync(join(root, 'leases', 'build-dead.json'), JSON.stringify({ id: 'build-dead', createdAt: new Date().toISOString(), pid: process.pid, pidStart: '1', resources: [] }));
      await leases.create({ id: 'build-live' });
      mkdirSync(join(root, 'ingest'), { recursive: true });
      for (const name of [`${dead}-aaaa`, `${live}-bbbb`, 'legacy-cccc']) writeFileSync(join(root, 'ingest', name), 'partial');
      const snaps = new DirSnapshotter(root);
      snaps.add('orphan-base', 'committed');
      snaps.add(`exec-1@${dead}`, 'active', 'orphan-base', new Date().toISOString());
      snaps.add(`extract-2@${dead} sha256:x`, 'active', undefined, new Date().toISOString());
      snaps.add(`exec-3@${live}`, 'active', 'orphan-base');
      snaps.add('container-abc', 'active');
      // An earlier version's temporary keys: an orphan once an hour old (createdAt defaults to 1970), not before.
      snaps.add('exec-0f1e2d3c-1111-4222-8333-944455556666', 'active');
      snaps.add('file-0f1e2d3c-1111-4222-8333-944455556667', 'active', undefined, new Date().toISOString());
      return snaps;
    }

    it('fsck reports dead leases, their ingest files and temporary snapshots; --repair removes exactly those', async () => {
      const snaps = await leftovers();
      const report = await fsck({ root, content, images, leases, snapshotter: snaps });
      const kinds = report.problems.map((p) => `${p.kind} ${p.subject.replace(root, '')}`).sort();
      expect(kinds).to.deep.equal([
        `ingest-leftover /ingest/${dead}-aaaa`,
        'lease-dead build-dead',
        'snapshot-orphan exec-0f1e2d3c-1111-4222-8333-944455556666',
        `snapshot-orphan exec-1@${dead}`,
        `snapshot-orphan extract-2@${dead} sha256:x`,
      ]);
      const repaired = await fsck({ root, content, images, leases, snapshotter: snaps, repair: true });
      expect(repaired.problems.every((p) => p.repaired)).to.equal(true);
      expect((await leases.list()).map((l) => l.id)).to.deep.equal(['build-live']);
      expect([...snaps.infos.keys()].sort()).to.deep.equal([`exec-3@${live}`, 'container-abc', 'file-0f1e2d3c-1111-4222-8333-944455556667', 'orphan-base'].sort());
      expect(existsSync(join(root, 'ingest', `${live}-bbbb`)) && existsSync(join(root, 'ingest', 'legacy-cccc'))).to.equal(true);
      expect((await fsck({ root, content, images, leases, snapshotter: snaps })).problems).to.deep.equal([]);
    });

    it('prune removes them first, whatever their age, so that what only they kept is swept too', async () => {
      const snaps = await leftovers();
      snaps.infos.delete(`exec-3@${live}`); // nothing live keeps orphan-base now
      const result = await prune({ root, content, images, leases, roots: [], snapshotter: snaps });
      expect(result.leftoversRemoved).to.equal(5); // three snapshots, one ingest file, one lease
      expect(snaps.removed).to.deep.equal([`exec-1@${dead}`, `extract-2@${dead} sha256:x`, 'exec-0f1e2d3c-1111-4222-8333-944455556666', 'orphan-base']);
      expect((await leases.list()).map((l) => l.id)).to.deep.equal(['build-live']);
      expect(existsSync(join(root, 'ingest', `${dead}-aaaa`))).to.equal(false);
    });

    it('with no dead owner, reclaim does not open the snapshotter and removes nothing', async () => {
      await leases.create({ id: 'build-live' });
      let asked = false;
      await reclaimStoreLeftovers({ root, leases, snapshotter: async () => { asked = true; throw new Error('not needed'); } });
      expect(asked).to.equal(false);
      expect((await leases.list()).map((l) => l.id)).to.deep.equal(['build-live']);
    });
  });
});
