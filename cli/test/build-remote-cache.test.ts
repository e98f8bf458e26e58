/**
 * `tsbuild build --cache-to/--cache-from` end to end, between two stores and
 * Debian's docker-registry on 127.0.0.1: the base image is pulled by the
 * fresh store itself; the inline cache travels in the pushed image's config
 * and a fresh store pushes the identical image without running its RUN (whose
 * cache mount would record the run on the host); a registry cache with
 * BuildKit's progress lines; `tsbuild fsck` finds the imported store sound.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { startRegistry, type TestRegistry } from '../../registry-client/test/support/registry.js';
import { tsbuild } from './support.js';

describe('tsbuild build --cache-to / --cache-from (docker-registry)', function () {
  this.timeout(240_000);
  let tmp: ReturnType<typeof tempDir>;
  let reg: TestRegistry;
  let ctx: string;

  /** The file a RUN appends to in its cache mount: it exists in a store only if the RUN ran there. */
  const runMarker = (root: string) => join(root, 'cache-mounts', createHash('sha256').update('marker').digest('hex'), '0', 'runs');
  const pushedDigest = (stdout: string) => /digest: (sha256:[a-f0-9]{64})/.exec(stdout)?.[1];

  before(async () => {
    tmp = tempDir('tsbuild-cli-remote-cache-');
    reg = await startRegistry();
    const a = join(tmp.path, 'a');
    expect((await tsbuild(a, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', `${reg.host}/base/bb:1`, '--change', 'CMD ["sh"]')).code).to.equal(0);
    expect((await tsbuild(a, 'push', `${reg.host}/base/bb:1`)).code).to.equal(0);
    ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${reg.host}/base/bb:1\nCOPY f /f\nRUN --mount=type=cache,target=/cm,id=marker sh -c 'echo ran >> /cm/runs; cat /f > /g'\n`);
    writeFileSync(join(ctx, 'f'), 'content\n');
  });
  after(async () => { await reg.stop(); tmp.cleanup(); });

  it('type=inline: a fresh store builds from the pushed image\'s cache, runs nothing, and pushes the identical image', async () => {
    const a = join(tmp.path, 'a');
    const first = await tsbuild(a, 'build', '--progress', 'plain', '--push', '-t', `${reg.host}/app/inline:1`, '--cache-to', 'type=inline', ctx);
    expect(first.code, first.stderr).to.equal(0);
    expect(existsSync(runMarker(a))).to.equal(true);

    const b = join(tmp.path, 'b-inline');
    const second = await tsbuild(b, 'build', '--progress', 'plain', '--push', '-t', `${reg.host}/app/inline:2`, '--cache-to', 'type=inline', '--cache-from', `${reg.host}/app/inline:1`, ctx);
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stderr).to.include(`importing cache manifest from ${reg.host}/app/inline:1`);
    expect(second.stderr).to.match(/RUN --mount=type=cache.*\n#\d+ CACHED/);
    expect(existsSync(runMarker(b)), 'the RUN did not run on the fresh store').to.equal(false);
    expect(pushedDigest(second.stdout)).to.equal(pushedDigest(first.stdout));
    const fsck = await tsbuild(b, 'fsck');
    expect(fsck.code, fsck.stdout + fsck.stderr).to.equal(0);
  });

  it('type=registry,mode=max: progress names the export and the import; a missing --cache-from is a warning', async () => {
    const a = join(tmp.path, 'a');
    const cacheRef = `${reg.host}/app/cache:main`;
    const exported = await tsbuild(a, 'build', '--progress', 'plain', '--cache-to', `type=registry,ref=${cacheRef},mode=max`, ctx);
    expect(exported.code, exported.stderr).to.equal(0);
    expect(exported.stderr).to.include(`exporting cache to ${cacheRef}`);

    const b = join(tmp.path, 'b-registry');
    const imported = await tsbuild(b, 'build', '--progress', 'plain', '--cache-from', `type=registry,ref=${cacheRef}`, '--cache-from', `${reg.host}/app/cache:absent`, ctx);
    expect(imported.code, imported.stderr).to.equal(0);
    expect(imported.stderr).to.include(`importing cache manifest from ${cacheRef}, ${reg.host}/app/cache:absent`);
    expect(imported.stderr).to.match(/WARN.*no cache at .*app\/cache:absent|warning.*no cache at .*app\/cache:absent/i);
    expect(existsSync(runMarker(b))).to.equal(false);
    // Layers store A kept uncompressed travel gzip'd and are uncompressed again here: the same image.
    const manifestOf = (stderr: string) => /exporting manifest (sha256:[a-f0-9]{64})/.exec(stderr)?.[1];
    expect(manifestOf(imported.stderr)).to.equal(manifestOf(exported.stderr)).and.to.not.equal(undefined);
  });
});
