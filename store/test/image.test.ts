import { expect } from 'chai';
import { Readable } from 'node:stream';
import { MediaType, sha256, type Descriptor, type ImageConfig, type Index } from '@tsbuild/core';
import { LocalContentStore, imageBlobs, readJson, resolveImage, writeImage, writeJson } from '@tsbuild/store';
import { tempDir } from '../../test/support/fixtures.js';

function config(arch: string, diffIDs: string[]): ImageConfig {
  return { architecture: arch, os: 'linux', config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: diffIDs as ImageConfig['rootfs']['diff_ids'] } };
}

describe('image: write, resolve, list blobs', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: LocalContentStore;
  let layer: Descriptor;
  beforeEach(async () => {
    dir = tempDir('tsbuild-image-');
    store = new LocalContentStore(dir.path);
    const info = await store.ingest(Readable.from([Buffer.from('not really a gzip layer')]));
    layer = { mediaType: MediaType.OciLayerGzip, ...info };
  });
  afterEach(() => dir.cleanup());

  it('writes an OCI image whose manifest resolves back with its config', async () => {
    const desc = await writeImage(store, { config: config('amd64', [sha256('diff')]), layers: [layer], annotations: { a: 'b' } });
    expect(desc.mediaType).to.equal(MediaType.OciManifest);
    expect(desc.platform).to.deep.equal({ os: 'linux', architecture: 'amd64' });
    const again = await writeImage(store, { config: config('amd64', [sha256('diff')]), layers: [layer], annotations: { a: 'b' } });
    expect(again.digest).to.equal(desc.digest);
    const img = await resolveImage(store, desc, { platform: { os: 'linux', architecture: 'arm64' } });
    expect(img.manifest.config.mediaType).to.equal(MediaType.OciConfig);
    expect(img.manifest.layers).to.deep.equal([layer]);
    expect(img.manifest.annotations).to.deep.equal({ a: 'b' });
    expect(img.config.rootfs.diff_ids).to.deep.equal([sha256('diff')]);
  });

  it('docker flavor converts media types and drops annotations', async () => {
    const desc = await writeImage(store, { config: config('amd64', [sha256('diff')]), layers: [layer], flavor: 'docker', annotations: { a: 'b' } });
    expect(desc.mediaType).to.equal(MediaType.DockerManifest);
    const img = await resolveImage(store, desc);
    expect(img.manifest.mediaType).to.equal(MediaType.DockerManifest);
    expect(img.configDescriptor.mediaType).to.equal(MediaType.DockerConfig);
    expect(img.manifest.layers[0]!.mediaType).to.equal(MediaType.DockerLayerGzip);
    expect(img.manifest.annotations).to.equal(undefined);
  });

  it('an index resolves to the requested platform, or fails naming what it has', async () => {
    const amd = await writeImage(store, { config: config('amd64', [sha256('d')]), layers: [layer] });
    const arm = await writeImage(store, { config: { ...config('arm64', [sha256('d')]), variant: 'v8' }, layers: [layer] });
    const index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [amd, arm] };
    const idx = await writeJson(store, index, MediaType.OciIndex);
    expect((await resolveImage(store, idx, { platform: { os: 'linux', architecture: 'arm64' } })).manifestDescriptor.digest).to.equal(arm.digest);
    expect((await resolveImage(store, idx, { platform: { os: 'linux', architecture: 'amd64' } })).config.architecture).to.equal('amd64');
    const err = await resolveImage(store, idx, { platform: { os: 'linux', architecture: 's390x' } }).catch((e: unknown) => e);
    expect((err as { code: string }).code).to.equal('IMAGE_PLATFORM_NOT_FOUND');
    expect((err as Error).message).to.contain('linux/amd64').and.contain('linux/arm64/v8');
  });

  it('invalid JSON structures fail with clear typed errors', async () => {
    const bad = await writeJson(store, { schemaVersion: 2, config: { mediaType: MediaType.OciConfig, digest: 'nope', size: 1 }, layers: [] }, MediaType.OciManifest);
    const err = await resolveImage(store, bad).catch((e: unknown) => e);
    expect((err as { code: string }).code).to.equal('IMAGE_INVALID_MANIFEST');
    expect((err as Error).message).to.contain('config.digest');
    const cfg = await writeJson(store, { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }, MediaType.OciConfig);
    const mismatch = await writeJson(store, { schemaVersion: 2, mediaType: MediaType.OciManifest, config: cfg, layers: [layer] }, MediaType.OciManifest);
    const err2 = await resolveImage(store, mismatch).catch((e: unknown) => e);
    expect((err2 as { code: string }).code).to.equal('IMAGE_INVALID_CONFIG');
    const noArch = await writeJson(store, { os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }, MediaType.OciConfig);
    const m3 = await writeJson(store, { schemaVersion: 2, config: noArch, layers: [] }, MediaType.OciManifest);
    expect(((await resolveImage(store, m3).catch((e: unknown) => e)) as Error).message).to.contain('architecture');
  });

  it('imageBlobs lists index, manifests, configs and layers once, tolerating missing children', async () => {
    const amd = await writeImage(store, { config: config('amd64', [sha256('d')]), layers: [layer] });
    const missing: Descriptor = { mediaType: MediaType.OciManifest, digest: sha256('gone'), size: 10, platform: { os: 'linux', architecture: 'arm64' } };
    const idx = await writeJson(store, { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [amd, missing] }, MediaType.OciIndex);
    const blobs = await imageBlobs(store, idx);
    const amdManifest = await readJson<{ config: Descriptor }>(store, amd);
    expect(blobs.map((b) => b.digest)).to.deep.equal([idx.digest, amd.digest, missing.digest, amdManifest.config.digest, layer.digest]);
  });
});
