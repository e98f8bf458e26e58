/**
 * `--build-context NAME=VALUE` (issue 5), as BuildKit's named contexts: a
 * local directory (COPY --from, RUN --mount from=, FROM; its own
 * .dockerignore; checksummed like the main context), `docker-image://REF`
 * replacing an image name, `oci-layout://DIR[:TAG|@DIGEST]`, and a context
 * named like a stage replacing that stage.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { hostPlatform, isInvalidArgument } from '@tsbuild/core';
import { openStore, packDirectory, resolveImage, writeImage, writeLayer } from '@tsbuild/store';
import { makeBusyboxRootfs } from '../../test/support/fixtures.js';
import { BUSYBOX_ENV, eventsOf, makeBuildEnv, mountsUnder, type BuildEnv } from './build-support.js';

describe('build: --build-context (issue 5)', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  before(async () => {
    env = await makeBuildEnv('tsbuild-build-contexts-');
  });
  after(() => env?.cleanup());
  afterEach(() => expect(mountsUnder(env.dir), 'leftover mounts').to.deep.equal([]));

  const runs = async (fn: () => Promise<unknown>): Promise<number> => {
    const before = env.executor.runs;
    await fn();
    return env.executor.runs - before;
  };

  it('a local directory: COPY --from and RUN --mount from= read it, filtered by its own .dockerignore; it is keyed on its content', async () => {
    const data = env.context({ 'f.txt': 'hello', 'ignored.txt': 'secret', 'sub/g.txt': 'g', '.dockerignore': 'ignored.txt\n' }, 'data-dir');
    const ctx = env.context({
      Dockerfile: [
        'FROM busybox',
        'COPY --from=data . /all/',
        'RUN --mount=from=data,target=/mnt [ "$(cat /mnt/f.txt)" = "$(cat /all/f.txt)" ] && [ ! -e /mnt/ignored.txt ] && [ ! -e /all/ignored.txt ] && cat /mnt/sub/g.txt > /g',
        '',
      ].join('\n'),
      // The main context's .dockerignore does not apply to a named context.
      '.dockerignore': 'f.txt\n',
    }, 'ctx-local');
    const out = join(env.dir, 'out-local');
    const build = () => env.build({ context: ctx, buildContexts: { data }, outputs: [{ type: 'local', dest: out }] });
    expect(await runs(build)).to.equal(1);
    expect(readFileSync(join(out, 'all/f.txt'), 'utf8')).to.equal('hello');
    expect(existsSync(join(out, 'all/ignored.txt'))).to.equal(false);
    expect(readFileSync(join(out, 'g'), 'utf8')).to.equal('g');

    writeFileSync(join(data, 'ignored.txt'), 'changed, but ignored');
    const cached = await env.build({ context: ctx, buildContexts: { data } });
    expect(eventsOf(cached.events, 'vertex.started'), 'an ignored file changed').to.deep.equal([]);

    writeFileSync(join(data, 'f.txt'), 'hello again');
    const res = await env.build({ context: ctx, buildContexts: { data } });
    expect(eventsOf(res.events, 'vertex.started').map((e) => e.name)).to.include('[context data] load from client');
    const explained = eventsOf(res.events, 'vertex.explain').find((e) => e.name === '[context data] load from client');
    expect(explained?.text).to.deep.equal(['file "f.txt" changed']);
  });

  it('FROM a local directory: its tree is the root filesystem (with the default PATH and WorkingDir /, as BuildKit\'s empty image)', async () => {
    const rootfs = env.context({ 'etc/motd': 'from a dir' }, 'rootfs-dir');
    const ctx = env.context({ Dockerfile: 'FROM base\nCOPY extra.txt /extra.txt\n', 'extra.txt': 'x' }, 'ctx-from-local');
    const out = join(env.dir, 'out-from-local');
    await env.build({ context: ctx, buildContexts: { base: rootfs }, outputs: [{ type: 'local', dest: out }] });
    expect(readFileSync(join(out, 'etc/motd'), 'utf8')).to.equal('from a dir');
    expect(readFileSync(join(out, 'extra.txt'), 'utf8')).to.equal('x');
    const res = await env.build({ context: ctx, buildContexts: { base: rootfs }, tags: ['ctx/from-local:1'] });
    const { config, manifest } = await resolveImage(env.store.content, (await env.store.images.get('ctx/from-local:1')).target);
    expect(config.config.Env).to.deep.equal([BUSYBOX_ENV[0]]);
    expect(config.config.WorkingDir).to.equal('/');
    expect(manifest.layers).to.have.length(2);
    expect(config.history!.filter((h) => !h.empty_layer)).to.have.length(2);
    expect(res.digest).to.be.a('string');
  });

  it('docker-image://REF replaces an image name in FROM and COPY --from (any spelling of the name)', async () => {
    const ctx = env.context({
      Dockerfile: [
        'FROM alpine',
        'COPY --from=docker.io/library/alpine:latest /bin/busybox /copied-busybox',
        'RUN [ -x /copied-busybox ] && echo ok > /ok',
        '',
      ].join('\n'),
    }, 'ctx-image');
    const out = join(env.dir, 'out-image');
    await env.build({ context: ctx, buildContexts: { alpine: 'docker-image://busybox:latest' }, outputs: [{ type: 'local', dest: out }] });
    expect(readFileSync(join(out, 'ok'), 'utf8')).to.equal('ok\n');
  });

  it('a context named like a stage replaces the stage (its instructions never run)', async () => {
    const prebuilt = env.context({ 'artifact.txt': 'prebuilt' }, 'prebuilt-dir');
    const ctx = env.context({
      Dockerfile: [
        'FROM busybox AS build',
        'RUN exit 3',
        'FROM busybox',
        'COPY --from=build /artifact.txt /artifact.txt',
        'RUN [ "$(cat /artifact.txt)" = prebuilt ]',
        '',
      ].join('\n'),
    }, 'ctx-stage');
    await env.build({ context: ctx, buildContexts: { build: prebuilt } });
    const img = env.context({ Dockerfile: 'FROM busybox AS build\nRUN exit 3\nFROM build\nRUN [ -e /bin/sh ] && [ ! -e /artifact.txt ]\n' }, 'ctx-stage-image');
    await env.build({ context: img, buildContexts: { build: 'docker-image://busybox' } });
  });

  it('oci-layout://DIR:TAG and oci-layout://DIR@DIGEST: an image from an OCI layout, its blobs copied into the store', async () => {
    const other = await openStore({ root: join(env.dir, 'layout') });
    const rootfs = makeBusyboxRootfs(join(env.dir, 'layout-rootfs'));
    writeFileSync(join(rootfs, 'marker'), 'layout');
    const layer = await writeLayer(packDirectory(rootfs, { sourceDateEpoch: 0 }), other.content, { compression: 'gzip' });
    const p = hostPlatform();
    const manifest = await writeImage(other.content, {
      config: { architecture: p.architecture, os: p.os, config: { Env: BUSYBOX_ENV }, rootfs: { type: 'layers', diff_ids: [layer.diffID] }, history: [{ created_by: 'layout fixture' }] },
      layers: [layer.descriptor],
    });
    await other.images.put('example/marker:v1', manifest);
    const ctx = env.context({ Dockerfile: 'FROM img\nRUN [ "$(cat /marker)" = layout ]\n' }, 'ctx-layout');
    await env.build({ context: ctx, buildContexts: { img: `oci-layout://${other.root}:v1` } });
    await env.build({ context: ctx, buildContexts: { img: `oci-layout://${other.root}@${manifest.digest}` } });
    expect((await env.store.content.info(layer.descriptor.digest)).size).to.equal(layer.descriptor.size);
  });

  it('refuses a local context that is not a directory, and kinds not supported yet', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox\nCOPY --from=x / /x\n' }, 'ctx-bad');
    mkdirSync(join(env.dir, 'not-a-dir-parent'), { recursive: true });
    writeFileSync(join(env.dir, 'not-a-dir-parent', 'file'), '');
    const err1 = await env.build({ context: ctx, buildContexts: { x: join(env.dir, 'not-a-dir-parent', 'file') } }).catch((e: unknown) => e);
    expect(isInvalidArgument(err1), String(err1)).to.equal(true);
    const err2 = await env.build({ context: ctx, buildContexts: { x: 'https://example.invalid/repo.git' } }).catch((e: unknown) => e);
    expect((err2 as { code?: string }).code).to.equal('BUILD_UNSUPPORTED');
  });
});
