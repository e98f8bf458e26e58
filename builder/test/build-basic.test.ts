/**
 * End-to-end builds with the real store, crun and overlayfs: FROM busybox +
 * RUN/COPY/metadata instructions; the image config and history are what
 * BuildKit writes for the same Dockerfile; the rootfs holds the files.
 */
import { mkdtempSync, readFileSync, rmSync, readlinkSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { expect } from 'chai';
import { resolveImage } from '@tsbuild/store';
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
});
