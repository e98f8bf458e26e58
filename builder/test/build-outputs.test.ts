/**
 * Outputs and options around the solve: oci/docker archives, the rootfs as
 * a tar, .dockerignore, --no-cache-filter, heredoc files, warnings for
 * unused build args, and buildx-style metadata.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { gunzipSync } from 'node:zlib';
import { MediaType, type Digest, type Manifest } from '@tsbuild/core';
import { EMPTY_TAR_GZIP_DIGEST, fsck, resolveImage } from '@tsbuild/store';
import { makeBuildEnv, mountsUnder, eventsOf, type BuildEnv } from './build-support.js';

/** The diff_id of a tar with no entries (1024 zero bytes). */
const EMPTY_TAR = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

const tarList = (file: string): string[] => execFileSync('tar', ['tf', file], { encoding: 'utf8' }).split('\n').filter(Boolean);

describe('build: outputs and options', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  before(async () => (env = await makeBuildEnv('tsbuild-build-out-')));
  after(() => env?.cleanup());
  afterEach(() => expect(mountsUnder(env.dir), 'leftover mounts').to.deep.equal([]));

  it('writes oci and docker archives, a rootfs tar, and buildx metadata', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox\nRUN echo out > /out.txt\n' }, 'ctx-out');
    const res = await env.build({
      context: ctx,
      tags: ['t/out:1'],
      outputs: [
        { type: 'image' },
        { type: 'oci', dest: join(env.dir, 'image-oci.tar') },
        { type: 'docker', dest: join(env.dir, 'image-docker.tar') },
        { type: 'tar', dest: join(env.dir, 'rootfs.tar') },
      ],
    });
    const oci = tarList(join(env.dir, 'image-oci.tar'));
    expect(oci).to.include.members(['oci-layout', 'index.json']);
    expect(oci).to.include(`blobs/sha256/${res.digest.slice('sha256:'.length)}`);
    expect(tarList(join(env.dir, 'image-docker.tar'))).to.include('manifest.json');
    expect(tarList(join(env.dir, 'rootfs.tar'))).to.include.members(['out.txt', 'bin/busybox']);
    expect(res.metadata).to.include({ 'containerimage.digest': res.digest, 'containerimage.config.digest': res.configDigest, 'image.name': 't/out:1' });
    expect(eventsOf(res.events, 'export.completed')).to.have.length(5); // the image blobs, then each output
  });

  it('keeps built layers uncompressed in the store, gzips them for an archive, and compresses cached ones at export', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox\nRUN echo layered > /layered\n' }, 'ctx-compression');
    const layersOf = (digest: string) =>
      (JSON.parse(readFileSync(env.store.content.blobPath(digest as Digest), 'utf8')) as Manifest).layers.map((l) => l.mediaType);
    const local = await env.build({ context: ctx, tags: ['t/compression:local'] });
    // The base was imported gzip'd and stays so; the RUN layer is a plain tar (dockerd's image store keeps none compressed).
    expect(layersOf(local.digest)).to.deep.equal([MediaType.OciLayerGzip, MediaType.OciLayer]);
    // The same build with an oci archive: the cached RUN layer is gzip'd at export, the image ID is the same.
    const runs = env.executor.runs;
    const dest = join(env.dir, 'compression-oci.tar');
    const archived = await env.build({ context: ctx, outputs: [{ type: 'oci', dest }] });
    expect(env.executor.runs).to.equal(runs);
    expect(archived.configDigest).to.equal(local.configDigest);
    expect(layersOf(archived.digest)).to.deep.equal([MediaType.OciLayerGzip, MediaType.OciLayerGzip]);
    expect(tarList(dest)).to.include(`blobs/sha256/${archived.digest.slice('sha256:'.length)}`);
    // An explicit choice applies to the store's image too.
    const zstd = await env.build({ context: ctx, compression: 'zstd', noCache: true });
    expect(layersOf(zstd.digest)).to.deep.equal([MediaType.OciLayerGzip, MediaType.OciLayerZstd]);
  });

  it('a step that changes nothing keeps its layer: the empty tar in the store, gzip\'d in an archive, twice in one manifest; fsck is clean', async () => {
    // BuildKit keeps a layer per RUN/COPY/ADD/WORKDIR (issue 12, point 8); /tmp exists in busybox, so WORKDIR /tmp changes nothing.
    const ctx = env.context({ Dockerfile: 'FROM busybox\nWORKDIR /tmp\nRUN true\nWORKDIR /\n' }, 'ctx-empty-layers');
    const manifestOf = (digest: string) => JSON.parse(readFileSync(env.store.content.blobPath(digest as Digest), 'utf8')) as Manifest;
    const local = await env.build({ context: ctx, tags: ['t/empty:1'] });
    const { config } = await resolveImage(env.store.content, (await env.store.images.get('t/empty:1')).target);
    expect(config.rootfs.diff_ids.slice(1)).to.deep.equal([EMPTY_TAR, EMPTY_TAR]);
    expect(config.history!.slice(1).map((h) => [h.created_by, h.empty_layer ?? false])).to.deep.equal([
      ['WORKDIR /tmp', false], ['RUN /bin/sh -c true # buildkit', false], ['WORKDIR /', true],
    ]);
    // In the store: the plain empty tar, one blob for both steps.
    expect(manifestOf(local.digest).layers.slice(1).map((l) => [l.mediaType, l.digest, l.size])).to.deep.equal([
      [MediaType.OciLayer, EMPTY_TAR, 1024], [MediaType.OciLayer, EMPTY_TAR, 1024],
    ]);
    // In an oci archive: gzip'd, both the same blob (once in the archive), which unpacks to the 1024 zero bytes.
    const dest = join(env.dir, 'empty-layers-oci.tar');
    const archived = await env.build({ context: ctx, outputs: [{ type: 'oci', dest }] });
    expect(archived.configDigest).to.equal(local.configDigest);
    const gz = manifestOf(archived.digest).layers.slice(1);
    expect(gz.map((l) => l.mediaType)).to.deep.equal([MediaType.OciLayerGzip, MediaType.OciLayerGzip]);
    // Go's gzip bytes of the empty tar, BuildKit's blob (store/src/layer/empty-tar.ts), not zlib's.
    expect(gz.map((l) => [l.digest, l.size])).to.deep.equal([[EMPTY_TAR_GZIP_DIGEST, 32], [EMPTY_TAR_GZIP_DIGEST, 32]]);
    expect(tarList(dest).filter((p) => p === `blobs/sha256/${gz[0]!.digest.slice('sha256:'.length)}`)).to.have.length(1);
    expect(gunzipSync(readFileSync(env.store.content.blobPath(gz[0]!.digest)))).to.deep.equal(Buffer.alloc(1024));
    const report = await fsck({ root: env.store.root, content: env.store.content, images: env.store.images });
    expect(report.problems).to.deep.equal([]);
  });

  it('.dockerignore hides files from COPY and from the cache key', async () => {
    const ctx = env.context(
      { Dockerfile: 'FROM busybox\nCOPY . /src/\nRUN ! [ -e /src/secret.log ] && [ -e /src/keep.txt ]\n', '.dockerignore': '*.log\n', 'keep.txt': 'k', 'secret.log': 'l' },
      'ctx-ignore',
    );
    await env.build({ context: ctx });
    writeFileSync(join(ctx, 'secret.log'), 'changed');
    const before = env.executor.runs;
    const res = await env.build({ context: ctx });
    expect(env.executor.runs - before).to.equal(0);
    expect(eventsOf(res.events, 'vertex.started')).to.deep.equal([]);
  });

  it('--no-cache-filter rebuilds only the named stage (and what depends on it)', async () => {
    const ctx = env.context(
      { Dockerfile: 'FROM busybox AS deps\nRUN echo deps > /deps\nFROM busybox AS other\nRUN echo other > /other\nFROM deps\nCOPY --from=other /other /other\n' },
      'ctx-filter',
    );
    await env.build({ context: ctx });
    const res = await env.build({ context: ctx, noCacheFilter: ['other'] });
    const started = eventsOf(res.events, 'vertex.started').map((e) => e.name);
    expect(started).to.include('[other 2/2] RUN echo other > /other');
    expect(started.some((n) => n.startsWith('[deps'))).to.equal(false);
    expect(eventsOf(res.events, 'vertex.explain').find((e) => e.name.startsWith('[other'))!.text).to.deep.equal(['cache disabled for this step (--no-cache)']);
  });

  it('COPY and RUN heredocs (plain and #! scripts) work; unused build args are warned about', async () => {
    const ctx = env.context(
      {
        Dockerfile: [
          'FROM busybox',
          'COPY <<EOF /etc/motd',
          'hello from a heredoc',
          'EOF',
          'RUN <<EOF',
          '[ "$(cat /etc/motd)" = "hello from a heredoc" ]',
          'echo plain > /plain',
          'EOF',
          'RUN <<EOF',
          '#!/bin/sh',
          'echo shebang > /shebang',
          'EOF',
          '',
        ].join('\n'),
      },
      'ctx-heredoc',
    );
    const res = await env.build({ context: ctx, buildArgs: { UNUSED: '1' }, outputs: [{ type: 'local', dest: join(env.dir, 'out-heredoc') }] });
    const out = join(env.dir, 'out-heredoc');
    expect(readFileSync(join(out, 'etc', 'motd'), 'utf8')).to.equal('hello from a heredoc\n');
    expect(readFileSync(join(out, 'plain'), 'utf8')).to.equal('plain\n');
    expect(readFileSync(join(out, 'shebang'), 'utf8')).to.equal('shebang\n');
    expect(existsSync(join(out, 'dev', 'pipes'))).to.equal(false);
    expect(res.warnings.map((w) => w.message)).to.include('One or more build-args [UNUSED] were not consumed');
    expect(eventsOf(res.events, 'warning')).to.have.length(res.warnings.length);
  });

  it('a COPY heredoc is a copy of a 0644 file: symbolic --chmod applies to 0644, created parents get --chown and an octal --chmod (BuildKit dispatchCopy + fsutil MkdirAll)', async () => {
    const ctx = env.context(
      {
        Dockerfile: [
          'FROM busybox',
          'COPY --chown=1000:1000 --chmod=u+x <<EOF /sym/dir/f',
          'symbolic',
          'EOF',
          'COPY --chmod=0700 <<EOF /oct/dir/g',
          'octal',
          'EOF',
          'RUN [ "$(stat -c %a:%u:%g /sym /sym/dir /sym/dir/f)" = "$(printf \'755:1000:1000\\n755:1000:1000\\n744:1000:1000\')" ] \\',
          ' && [ "$(stat -c %a:%u /oct /oct/dir /oct/dir/g)" = "$(printf \'700:0\\n700:0\\n700:0\')" ]',
          '',
        ].join('\n'),
      },
      'ctx-heredoc-modes',
    );
    await env.build({ context: ctx });
  });
});
