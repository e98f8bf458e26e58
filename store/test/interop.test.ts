/**
 * The store root is a real OCI image layout: skopeo and umoci read what we
 * write, and we read what skopeo writes (OCI and Docker schema2 media types).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { createReadStream, mkdirSync, readFileSync, symlinkSync, writeFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { promisify } from 'node:util';
import * as tar from 'tar';
import { MediaType, hostPlatform, sha256, type Descriptor } from '@tsbuild/core';
import { FileLeaseManager, LocalContentStore, OciLayoutImageStore, fsck, openLayout, resolveImage, writeImage } from '@tsbuild/store';
import { tempDir } from '../../test/support/fixtures.js';

const run = promisify(execFile);

/** Packs `files` into a gzip layer in the store; returns its descriptor and diffID. */
async function makeLayer(content: LocalContentStore, tree: string, files: Record<string, string>): Promise<{ layer: Descriptor; diffID: ReturnType<typeof sha256> }> {
  mkdirSync(join(tree, 'dir'), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(tree, name), text);
  symlinkSync('hello.txt', join(tree, 'dir/link'));
  const tarPath = `${tree}.tar`;
  await tar.c({ cwd: tree, file: tarPath, portable: true }, ['.']);
  const diffID = sha256(readFileSync(tarPath));
  const info = await content.ingest(createReadStream(tarPath).pipe(createGzip()));
  return { layer: { mediaType: MediaType.OciLayerGzip, ...info }, diffID };
}

describe('interop: skopeo and umoci', function () {
  this.timeout(60_000);
  let dir: ReturnType<typeof tempDir>;
  let root: string;
  let content: LocalContentStore;
  let images: OciLayoutImageStore;
  const built: Record<string, { manifest: Descriptor; layer: Descriptor }> = {};

  before(async () => {
    dir = tempDir('tsbuild-interop-');
    root = join(dir.path, 'store');
    content = new LocalContentStore(root);
    images = new OciLayoutImageStore(root);
    // the store's own directories (ingest/, leases/, cache/) must not disturb the other tools
    await new FileLeaseManager(root).create({ id: 'interop' });
    mkdirSync(join(root, 'cache/records'), { recursive: true });
    const { architecture, os } = hostPlatform();
    for (const [repo, text] of [['busybox', 'from busybox\n'], ['app', 'from app\n']] as const) {
      const { layer, diffID } = await makeLayer(content, join(dir.path, `tree-${repo}`), { 'hello.txt': text });
      const manifest = await writeImage(content, {
        config: { architecture, os, config: { Cmd: ['/bin/sh'] }, rootfs: { type: 'layers', diff_ids: [diffID] } },
        layers: [layer],
      });
      await images.put(`${repo}:latest`, manifest);
      built[repo] = { manifest, layer };
    }
  });
  after(() => dir.cleanup());

  it('skopeo inspects both repositories tagged "latest" in one store', async () => {
    for (const repo of ['busybox', 'app']) {
      const { stdout } = await run('skopeo', ['inspect', `oci:${root}:${repo}:latest`]);
      const info = JSON.parse(stdout) as { Digest: string; Layers: string[]; Architecture: string };
      expect(info.Digest).to.equal(built[repo]!.manifest.digest);
      expect(info.Layers).to.deep.equal([built[repo]!.layer.digest]);
      expect(info.Architecture).to.equal(hostPlatform().architecture);
    }
  });

  it('umoci unpacks a tag into a bundle with the files', async () => {
    const bundle = join(dir.path, 'bundle');
    await run('umoci', ['unpack', '--image', `${root}:app:latest`, bundle]);
    expect(readFileSync(join(bundle, 'rootfs/hello.txt'), 'utf8')).to.equal('from app\n');
    expect(readlinkSync(join(bundle, 'rootfs/dir/link'))).to.equal('hello.txt');
    const other = join(dir.path, 'bundle2');
    await run('umoci', ['unpack', '--image', `${root}:busybox:latest`, other]);
    expect(readFileSync(join(other, 'rootfs/hello.txt'), 'utf8')).to.equal('from busybox\n');
  });

  it('reads a layout skopeo copied (OCI media types)', async () => {
    const other = join(dir.path, 'copied-oci');
    await run('skopeo', ['copy', `oci:${root}:app:latest`, `oci:${other}:tag2`]);
    const layout = await openLayout(other);
    const record = await layout.images.get('tag2');
    expect(record.target.digest).to.equal(built.app!.manifest.digest);
    const img = await resolveImage(layout.content, record.target);
    expect(img.manifest.layers.map((l) => l.digest)).to.deep.equal([built.app!.layer.digest]);
    expect(img.config.config?.Cmd).to.deep.equal(['/bin/sh']);
  });

  it('reads a layout skopeo copied with --format v2s2 (Docker media types)', async () => {
    const other = join(dir.path, 'copied-docker');
    await run('skopeo', ['copy', '--format', 'v2s2', `oci:${root}:busybox:latest`, `oci:${other}:tag3`]);
    const layout = await openLayout(other);
    const record = await layout.images.get('tag3');
    expect(record.target.mediaType).to.equal(MediaType.DockerManifest);
    const img = await resolveImage(layout.content, record.target);
    expect(img.manifest.mediaType).to.equal(MediaType.DockerManifest);
    expect(img.configDescriptor.mediaType).to.equal(MediaType.DockerConfig);
    expect(img.manifest.layers.map((l) => [l.mediaType, l.digest])).to.deep.equal([[MediaType.DockerLayerGzip, built.busybox!.layer.digest]]);
    expect((await resolveImage(content, built.busybox!.manifest)).config.rootfs.diff_ids).to.deep.equal(img.config.rootfs.diff_ids);
  });

  it('fsck finds the store clean after the other tools used it', async () => {
    const report = await fsck({ root, content, images, ingestMaxAgeMs: 0 });
    expect(report.problems).to.deep.equal([]);
    expect(report.refsChecked).to.equal(2);
    expect(report.blobsChecked).to.equal(6);
  });
});
