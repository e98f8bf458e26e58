/** Docker schema2 media types on request: `import --media-types docker`, `build -o type=image,oci-mediatypes=false`. */
import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOutput, type OutputImageOptions } from '../src/build-flag-values.js';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { tsbuild } from './support.js';

describe('media types: OCI by default, Docker schema2 on request', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  before(async () => {
    tmp = tempDir('tsbuild-mt-');
    root = join(tmp.path, 'store');
    const rootfs = makeBusyboxRootfs(join(tmp.path, 'rootfs'));
    expect((await tsbuild(root, 'import', rootfs, '-t', 'busybox')).code).to.equal(0);
    expect((await tsbuild(root, 'import', rootfs, '-t', 'busybox:docker', '--media-types', 'docker')).code).to.equal(0);
  });
  after(() => tmp.cleanup());

  const manifestOf = async (ref: string) => JSON.parse((await tsbuild(root, 'inspect', ref)).stdout)[0];

  it('import writes OCI types by default and Docker schema2 types with --media-types docker', async () => {
    const oci = await manifestOf('busybox');
    expect(oci.Descriptor.mediaType).to.equal('application/vnd.oci.image.manifest.v1+json');
    expect(oci.Manifest.layers[0].mediaType).to.equal('application/vnd.oci.image.layer.v1.tar+gzip');
    const docker = await manifestOf('busybox:docker');
    expect(docker.Descriptor.mediaType).to.equal('application/vnd.docker.distribution.manifest.v2+json');
    expect(docker.Manifest.config.mediaType).to.equal('application/vnd.docker.container.image.v1+json');
    expect(docker.Manifest.layers[0].mediaType).to.equal('application/vnd.docker.image.rootfs.diff.tar.gzip');
    expect((await tsbuild(root, 'import', tmp.path, '-t', 'x', '--media-types', 'bogus')).code).to.equal(2);
  });

  it('parses buildx output options oci-mediatypes= and compression=', () => {
    const image: OutputImageOptions = {};
    expect(parseOutput('type=image,oci-mediatypes=false,compression=zstd', image)).to.deep.equal({ type: 'image' });
    expect(image).to.deep.equal({ mediaTypes: 'docker', compression: 'zstd' });
    expect(() => parseOutput('type=image,compression=lz4', {})).to.throw(/compression/);
  });

  it('build -o type=image,oci-mediatypes=false writes Docker types; with compression=zstd it is refused as BuildKit refuses it', async () => {
    const ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN echo hi > /hi\n');
    const r = await tsbuild(root, 'build', '--progress', 'quiet', '-t', 'mt', '-o', 'type=image,oci-mediatypes=false,compression=gzip', ctx);
    expect(r.code, r.stderr).to.equal(0);
    const m = await manifestOf('mt');
    expect(m.Descriptor.mediaType).to.equal('application/vnd.docker.distribution.manifest.v2+json');
    expect(m.Manifest.layers.at(-1).mediaType).to.equal('application/vnd.docker.image.rootfs.diff.tar.gzip');
    const zstd = await tsbuild(root, 'build', '--progress', 'quiet', '-t', 'mt', '-o', 'type=image,oci-mediatypes=false,compression=zstd', ctx);
    expect(zstd.code).to.equal(2);
    expect(zstd.stderr).to.include('"compression=zstd" conflicts with "oci-mediatypes=false"');
  });
});
