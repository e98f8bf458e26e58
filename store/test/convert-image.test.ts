import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MediaType, sha256, type Descriptor, type Digest, type ImageConfig } from '@tsbuild/core';
import { BlobSources, LocalContentStore, convertImage, fsck, packDirectory, prune, readJson, resolveImage, writeImage, writeLayer, OciLayoutImageStore, initLayout } from '@tsbuild/store';
import { tempDir } from '../../test/support/fixtures.js';

/** Two real layers (uncompressed tars of small trees) and an image naming them. */
async function uncompressedImage(root: string, content: LocalContentStore, flavor: 'oci' | 'docker' = 'oci') {
  const layers: Descriptor[] = [];
  const diffIDs: string[] = [];
  for (const name of ['one', 'two']) {
    const dir = join(root, 'src', name);
    mkdirSync(join(dir, 'etc'), { recursive: true });
    writeFileSync(join(dir, 'etc', name), `${name}\n`.repeat(5000));
    const written = await writeLayer(packDirectory(dir), content, { compression: 'none', flavor });
    layers.push(written.descriptor);
    diffIDs.push(written.diffID);
  }
  const config: ImageConfig = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIDs as ImageConfig['rootfs']['diff_ids'] } };
  return { manifest: await writeImage(content, { config, layers, flavor }), layers, diffIDs };
}

describe('convertImage: layers re-encoded for an image that leaves the store', () => {
  let dir: ReturnType<typeof tempDir>;
  let content: LocalContentStore;
  beforeEach(async () => {
    dir = tempDir('tsbuild-convert-');
    await initLayout(dir.path);
    content = new LocalContentStore(dir.path);
  });
  afterEach(() => dir.cleanup());

  it('gzips every uncompressed layer into a valid stream with the same diffID, and keeps the config (image ID)', async () => {
    const { manifest, layers, diffIDs } = await uncompressedImage(dir.path, content);
    expect(layers.map((l) => l.mediaType)).to.deep.equal([MediaType.OciLayer, MediaType.OciLayer]);
    const held: string[] = [];
    const converted = await convertImage(manifest, { root: dir.path, content, compression: 'gzip', onBlob: async (b) => void held.push(b.digest) });
    expect(converted.digest).to.not.equal(manifest.digest);
    const before = await resolveImage(content, manifest);
    const after = await resolveImage(content, converted);
    expect(after.configDescriptor).to.deep.equal(before.configDescriptor);
    expect(after.manifest.layers.map((l) => l.mediaType)).to.deep.equal([MediaType.OciLayerGzip, MediaType.OciLayerGzip]);
    expect([...held].sort()).to.deep.equal(after.manifest.layers.map((l) => l.digest).sort());
    for (const [i, layer] of after.manifest.layers.entries()) {
      expect(layer.size).to.be.lessThan(layers[i]!.size); // 5000 repeated lines compress
      // gzip(1) decodes it to exactly the tar the diffID names.
      const tarBytes = execFileSync('gzip', ['-dc', content.blobPath(layer.digest)], { maxBuffer: 64 << 20 });
      expect(sha256(tarBytes)).to.equal(diffIDs[i]);
    }
  });

  it('docker media types stay docker; zstd (OCI only, as in BuildKit) is refused for them and decodable by zstd(1) otherwise', async () => {
    const docker = await uncompressedImage(dir.path, content, 'docker');
    const gz = await convertImage(docker.manifest, { root: dir.path, content, compression: 'gzip' });
    expect(gz.mediaType).to.equal(MediaType.DockerManifest);
    expect((await resolveImage(content, gz)).manifest.layers.map((l) => l.mediaType)).to.deep.equal([MediaType.DockerLayerGzip, MediaType.DockerLayerGzip]);
    const refused = await convertImage(docker.manifest, { root: dir.path, content, compression: 'zstd' }).catch((e: unknown) => e);
    expect((refused as { code?: string }).code).to.equal('STORE_ZSTD_NEEDS_OCI');
    const { manifest, diffIDs } = await uncompressedImage(dir.path, content);
    const converted = await convertImage(manifest, { root: dir.path, content, compression: 'zstd' });
    const after = await resolveImage(content, converted);
    expect(after.manifest.layers.map((l) => l.mediaType)).to.deep.equal([MediaType.OciLayerZstd, MediaType.OciLayerZstd]);
    const tarBytes = execFileSync('zstd', ['-dc', content.blobPath(after.manifest.layers[1]!.digest)], { maxBuffer: 64 << 20 });
    expect(sha256(tarBytes)).to.equal(diffIDs[1]);
  });

  it('keeps layers already compressed (buildx\'s rule) unless force, and converts nothing to none', async () => {
    const { manifest } = await uncompressedImage(dir.path, content);
    const gz = await convertImage(manifest, { root: dir.path, content, compression: 'gzip' });
    expect((await convertImage(gz, { root: dir.path, content, compression: 'zstd' })).digest).to.equal(gz.digest);
    expect((await convertImage(gz, { root: dir.path, content, compression: 'none' })).digest).to.equal(gz.digest);
    const forced = await resolveImage(content, await convertImage(gz, { root: dir.path, content, compression: 'zstd', force: true }));
    expect(forced.manifest.layers.map((l) => l.mediaType)).to.deep.equal([MediaType.OciLayerZstd, MediaType.OciLayerZstd]);
    const plain = await resolveImage(content, await convertImage(gz, { root: dir.path, content, compression: 'none', force: true }));
    expect(plain.manifest.layers.map((l) => l.digest)).to.deep.equal((await resolveImage(content, manifest)).manifest.layers.map((l) => l.digest));
  });

  it('returns the image itself when its layers are already in that compression', async () => {
    const { manifest } = await uncompressedImage(dir.path, content);
    expect((await convertImage(manifest, { root: dir.path, content, compression: 'none' })).digest).to.equal(manifest.digest);
  });

  it('remembers a conversion: the second export reuses the blob; prune keeps it while its layer lives, then removes both', async () => {
    const { manifest } = await uncompressedImage(dir.path, content);
    const first = await convertImage(manifest, { root: dir.path, content, compression: 'gzip' });
    const firstLayers = (await readJson<{ layers: Descriptor[] }>(content, first)).layers;
    const memo = join(dir.path, 'layer-variants', 'gzip');
    expect(readdirSync(memo)).to.have.length(2);
    // A reused blob is not rewritten: its mtime stays where we put it.
    const old = new Date('2001-01-01T00:00:00Z');
    for (const l of firstLayers) utimesSync(content.blobPath(l.digest), old, old);
    const second = await convertImage(manifest, { root: dir.path, content, compression: 'gzip' });
    expect(second.digest).to.equal(first.digest);
    for (const l of firstLayers) expect(statSync(content.blobPath(l.digest)).mtimeMs).to.equal(old.getTime());
    // Nothing tags the converted image, but its layers are variants of the tagged image's: prune keeps them.
    const images = new OciLayoutImageStore(dir.path);
    await images.put('app:1', manifest);
    await prune({ root: dir.path, content, images, roots: [], graceMs: 0 });
    for (const l of firstLayers) expect(existsSync(content.blobPath(l.digest))).to.equal(true);
    expect(readdirSync(memo)).to.have.length(2);
    // With the tag gone, the layers go and their variants and memo entries with them.
    await images.delete('app:1');
    await prune({ root: dir.path, content, images, roots: [], graceMs: 0 });
    for (const l of firstLayers) expect(existsSync(content.blobPath(l.digest))).to.equal(false);
    expect(readdirSync(memo)).to.deep.equal([]);
  });

  it('fsck reports a variant entry whose blob is missing or that does not parse, and repair removes it', async () => {
    const { manifest } = await uncompressedImage(dir.path, content);
    const gz = await readJson<{ layers: Descriptor[] }>(content, await convertImage(manifest, { root: dir.path, content, compression: 'gzip' }));
    const images = new OciLayoutImageStore(dir.path);
    await images.put('app:1', manifest);
    expect((await fsck({ root: dir.path, content, images })).problems).to.deep.equal([]);
    await content.delete(gz.layers[0]!.digest);
    const memo = join(dir.path, 'layer-variants', 'gzip');
    writeFileSync(join(memo, 'f'.repeat(64)), 'not json');
    const report = await fsck({ root: dir.path, content, images, repair: true });
    expect(report.problems.map((p) => [p.kind, p.repaired])).to.deep.equal([['layer-variant', true], ['layer-variant', true]]);
    expect(readdirSync(memo)).to.have.length(1);
    expect((await fsck({ root: dir.path, content, images })).problems).to.deep.equal([]);
  });

  it('blob sources: repositories per registry (newest last, bounded), dropped by prune with their blob', async () => {
    const sources = new BlobSources(dir.path);
    const { layers } = await uncompressedImage(dir.path, content);
    const [a, b] = layers.map((l) => l.digest) as [Digest, Digest];
    await sources.add([a, b], 'reg:5000', 'lib/one');
    await sources.add([a], 'reg:5000', 'lib/two');
    await sources.add([a], 'reg:5000', 'lib/one');
    await sources.add([a], 'other', 'x');
    expect(await sources.get(a)).to.deep.equal({ 'reg:5000': ['lib/two', 'lib/one'], other: ['x'] });
    for (let i = 0; i < 20; i++) await sources.add([b], 'reg:5000', `r${i}`);
    expect((await sources.get(b))['reg:5000']).to.have.length(16).and.include('r19').and.not.include('lib/one');
    const images = new OciLayoutImageStore(dir.path);
    await prune({ root: dir.path, content, images, roots: [], graceMs: 0 });
    expect([await sources.get(a), await sources.get(b)]).to.deep.equal([{}, {}]);
    expect(readdirSync(join(dir.path, 'blob-sources'))).to.deep.equal([]);
  });

  it('refuses a layer whose bytes do not hash to the config diffID', async () => {
    const { layers } = await uncompressedImage(dir.path, content);
    const config: ImageConfig = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256('something else'), sha256('x')] as ImageConfig['rootfs']['diff_ids'] } };
    const lying = await writeImage(content, { config, layers });
    const err = await convertImage(lying, { root: dir.path, content, compression: 'gzip' }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).to.equal('STORE_DIFFID_MISMATCH');
  });
});
