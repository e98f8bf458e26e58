/**
 * End-to-end builds with the real store, crun and overlayfs: FROM busybox +
 * RUN/COPY/metadata instructions; the image config and history are what
 * BuildKit writes for the same Dockerfile; the rootfs holds the files.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, readlinkSync, lstatSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { expect } from 'chai';
import { EMPTY_TAR_DIFF_ID, resolveImage } from '@tsbuild/store';
import { makeBuildEnv, mountsUnder, BUSYBOX_ENV, type BuildEnv } from './build-support.js';

describe('build: FROM + RUN + COPY + metadata', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  before(async () => (env = await makeBuildEnv()));
  after(() => env?.cleanup());
  afterEach(() => expect(mountsUnder(env.dir), 'leftover mounts').to.deep.equal([]));

  it('builds FROM busybox + RUN, tags it, and the rootfs has the file', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox\nRUN echo hello > /greeting && [ "$(cat /greeting)" = hello ]\n' }, 'ctx-run');
    const res = await env.build({ context: ctx, tags: ['t/run:1'] });
    expect(res.tags).to.deep.equal(['t/run:1']);
    const record = await env.store.images.get('t/run:1');
    expect(record.target.digest).to.equal(res.digest);
    const out = mkdtempSync(join(tmpdir(), 'tsbuild-local-'));
    try {
      await env.build({ context: ctx, outputs: [{ type: 'local', dest: out }] });
      expect(readFileSync(join(out, 'greeting'), 'utf8')).to.equal('hello\n');
      expect(lstatSync(join(out, 'bin', 'busybox')).isFile()).to.equal(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('writes the config and history BuildKit writes, and the rootfs has the copied files', async () => {
    const ctx = env.context(
      {
        Dockerfile: [
          'FROM busybox',
          'ENV APP=demo',
          'WORKDIR /app',
          'COPY a.txt ./',
          'COPY --chown=tester:extra --chmod=600 dir/ /data/',
          'RUN [ "$(cat /app/a.txt)" = alpha ] && [ "$(stat -c %u:%g:%a /data/b.txt)" = 1000:2000:600 ] && [ "$APP" = demo ] && [ "$(pwd)" = /app ] && echo ok > run.txt',
          'LABEL org.example.name="demo app" version=1',
          'EXPOSE 8080',
          'USER tester',
          'ENTRYPOINT ["/bin/sh", "-c"]',
          'CMD ["echo hi"]',
          '',
        ].join('\n'),
        'a.txt': 'alpha',
        'dir/b.txt': 'beta',
      },
      'ctx-config',
    );
    const res = await env.build({ context: ctx, tags: ['t/config:1'], labels: { 'com.example.extra': 'x' } });
    const resolved = await resolveImage(env.store.content, (await env.store.images.get('t/config:1')).target);
    const { config } = resolved;
    expect(res.configDigest).to.equal(resolved.configDescriptor.digest);
    expect(config.config).to.deep.equal({
      Env: [...BUSYBOX_ENV, 'APP=demo'],
      Cmd: ['echo hi'],
      Entrypoint: ['/bin/sh', '-c'],
      WorkingDir: '/app',
      User: 'tester',
      ExposedPorts: { '8080/tcp': {} },
      Labels: { 'org.example.name': 'demo app', version: '1', 'com.example.extra': 'x' },
      ArgsEscaped: true,
    });
    const history = config.history!.map(({ created, ...h }) => {
      expect(created).to.be.a('string');
      return h;
    });
    const bk = (created_by: string, empty?: true) => ({ created_by, comment: 'buildkit.dockerfile.v0', ...(empty ? { empty_layer: true } : {}) });
    expect(history).to.deep.equal([
      { created_by: 'busybox-static rootfs', comment: 'test fixture' },
      bk('ENV APP=demo', true),
      bk('WORKDIR /app'),
      bk('COPY a.txt ./ # buildkit'),
      bk('COPY --chown=tester:extra --chmod=600 dir/ /data/ # buildkit'),
      bk('RUN /bin/sh -c [ "$(cat /app/a.txt)" = alpha ] && [ "$(stat -c %u:%g:%a /data/b.txt)" = 1000:2000:600 ] && [ "$APP" = demo ] && [ "$(pwd)" = /app ] && echo ok > run.txt # buildkit'),
      bk('LABEL org.example.name=demo app version=1', true),
      bk('EXPOSE map[8080/tcp:{}]', true),
      bk('USER tester', true),
      bk('ENTRYPOINT ["/bin/sh" "-c"]', true),
      bk('CMD ["echo hi"]', true),
    ]);
    // One layer per non-empty history entry.
    expect(config.rootfs.diff_ids).to.have.length(5);
    expect(resolved.manifest.layers).to.have.length(5);
    expect(res.metadata['containerimage.digest']).to.equal(res.digest);
    expect(res.metadata['image.name']).to.equal('t/config:1');

    const out = mkdtempSync(join(tmpdir(), 'tsbuild-local-'));
    try {
      await env.build({ context: ctx, outputs: [{ type: 'local', dest: out }] });
      expect(readFileSync(join(out, 'app/a.txt'), 'utf8')).to.equal('alpha');
      expect(readFileSync(join(out, 'data/b.txt'), 'utf8')).to.equal('beta');
      expect(readFileSync(join(out, 'app/run.txt'), 'utf8')).to.equal('ok\n');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('copies a symlink to /etc/passwd inside a context directory as a symlink, and a RUN that writes nothing adds the empty layer', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox\nCOPY dir /dir\nRUN [ "$(readlink /dir/link)" = /etc/passwd ]\n', 'dir/.keep': '' }, 'ctx-symlink');
    symlinkSync('/etc/passwd', join(ctx, 'dir/link'));
    const res = await env.build({ context: ctx, tags: ['t/symlink:1'] });
    const { config } = await resolveImage(env.store.content, (await env.store.images.get(res.tags[0]!)).target);
    // BuildKit keeps a layer for a RUN that changes nothing: the empty tar.
    expect(config.rootfs.diff_ids).to.have.length(3);
    expect(config.rootfs.diff_ids.at(-1)).to.equal(EMPTY_TAR_DIFF_ID);
    expect(config.history!.at(-1)).to.deep.include({ created_by: 'RUN /bin/sh -c [ "$(readlink /dir/link)" = /etc/passwd ] # buildkit' });
    expect(config.history!.at(-1)).to.not.have.property('empty_layer');
    const out = mkdtempSync(join(tmpdir(), 'tsbuild-local-'));
    try {
      await env.build({ context: ctx, outputs: [{ type: 'local', dest: out }] });
      expect(readlinkSync(join(out, 'dir/link'))).to.equal('/etc/passwd');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('follows a top-level COPY source symlink inside the context; one to /etc/passwd is not found, never the host file', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox\nCOPY link /copied\n', 'a.txt': 'alpha' }, 'ctx-symlink-follow');
    symlinkSync('a.txt', join(ctx, 'link'));
    const out = mkdtempSync(join(tmpdir(), 'tsbuild-local-'));
    try {
      await env.build({ context: ctx, outputs: [{ type: 'local', dest: out }] });
      expect(lstatSync(join(out, 'copied')).isFile()).to.equal(true);
      expect(readFileSync(join(out, 'copied'), 'utf8')).to.equal('alpha');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    rmSync(join(ctx, 'link'));
    symlinkSync('/etc/passwd', join(ctx, 'link'));
    const err = await env.build({ context: ctx }).catch((e: unknown) => e);
    expect(String(err)).to.match(/"\/link": not found/);
  });
});

describe('build: with the copy snapshotter (no overlayfs)', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  before(async () => (env = await makeBuildEnv('tsbuild-build-copy-', { snapshotter: 'copy' })));
  after(() => env?.cleanup());
  afterEach(() => expect(mountsUnder(env.dir), 'leftover mounts').to.deep.equal([]));

  it('builds RUN, COPY and an empty RUN with tree diffs, then hits the cache', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox\nCOPY a.txt /a.txt\nRUN rm /etc/group && echo x > /x\nRUN true\n', 'a.txt': 'a' }, 'ctx-copy');
    const res = await env.build({ context: ctx, tags: ['t/copy:1'] });
    const { config } = await resolveImage(env.store.content, (await env.store.images.get('t/copy:1')).target);
    expect(config.rootfs.diff_ids).to.have.length(4);
    expect(config.rootfs.diff_ids.at(-1)).to.equal(EMPTY_TAR_DIFF_ID);
    expect(config.history!.at(-1)).to.not.have.property('empty_layer');
    const out = mkdtempSync(join(tmpdir(), 'tsbuild-local-'));
    try {
      const before = env.executor.runs;
      const again = await env.build({ context: ctx, outputs: [{ type: 'local', dest: out }] });
      expect(env.executor.runs - before).to.equal(0);
      expect(again.events.some((e) => e.type === 'vertex.started')).to.equal(false);
      expect(readFileSync(join(out, 'x'), 'utf8')).to.equal('x\n');
      expect(readFileSync(join(out, 'a.txt'), 'utf8')).to.equal('a');
      expect(existsSync(join(out, 'etc', 'group'))).to.equal(false);
      expect(existsSync(join(out, 'etc', 'passwd'))).to.equal(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    expect(res.digest).to.match(/^sha256:/);
  });
});
