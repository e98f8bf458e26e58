/**
 * A build pulls the images its Dockerfile names and the store lacks, from a
 * real registry (Debian's docker-registry on 127.0.0.1) reached through a
 * proxy that records every request: FROM on an empty store, a second build
 * with no request at all, `--pull` after the tag moved, `--offline`, two
 * stages of one image fetching each blob once, COPY --from, RUN --mount
 * from= and `--build-context docker-image://`, and a missing tag as an error
 * at the FROM line with the registry's code.
 */
import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { startRegistry, type TestRegistry } from '../../registry-client/test/support/registry.js';
import { startFaultProxy, type FaultProxy } from '../../registry-client/test/support/fault-proxy.js';
import { tsbuild } from './support.js';

describe('tsbuild build pulls base images (docker-registry)', function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let reg: TestRegistry;
  let proxy: FaultProxy;
  let a: string;
  /** Digest of the first image pushed as base/bb:x. */
  let v1: string;

  /** Pushes store a's `source` as `reg/repo:tag` (direct, not through the proxy); returns the pushed digest. */
  const push = async (source: string, repoTag: string): Promise<string> => {
    const ref = `${reg.host}/${repoTag}`;
    expect((await tsbuild(a, 'tag', source, ref)).code).to.equal(0);
    const r = await tsbuild(a, 'push', ref);
    expect(r.code, r.stderr).to.equal(0);
    return /digest: (sha256:[a-f0-9]{64})/.exec(r.stdout)![1]!;
  };
  const context = (name: string, dockerfile: string): string => {
    const dir = join(tmp.path, 'ctx', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    return dir;
  };
  const blobGets = (from: number) => proxy.seen.slice(from).filter((l) => /^GET \/v2\/.+\/blobs\/sha256:/.test(l));

  before(async () => {
    tmp = tempDir('tsbuild-build-pull-');
    reg = await startRegistry();
    proxy = await startFaultProxy(reg.host);
    a = join(tmp.path, 'a');
    expect((await tsbuild(a, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'bb', '--change', 'CMD ["sh"]')).code).to.equal(0);
    v1 = await push('bb', 'base/bb:x');
    await push('bb', 'other/bb:y');
    await push('bb', 'ctx/bb:z');
  });
  after(async () => { await proxy.close(); await reg.stop(); tmp.cleanup(); });

  it('FROM on an empty store pulls (progress, metadata), the image runs; a second build sends no request', async () => {
    const b = join(tmp.path, 'b');
    const ref = `${proxy.host}/base/bb:x`;
    const dir = context('from', `FROM ${ref}\nRUN echo built > /built\n`);
    const meta = join(tmp.path, 'from-meta.json');
    const r = await tsbuild(b, 'build', '--progress', 'plain', '-t', 'from:1', '--metadata-file', meta, dir);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include(`[internal] load metadata for ${ref}\n`);
    expect(r.stderr).to.include(`resolve ${ref}@${v1}\n`);
    expect(JSON.parse(readFileSync(meta, 'utf8'))['tsbuild.base-images']).to.deep.equal([{ ref, digest: v1, platform: 'linux/amd64' }]);
    const ran = await tsbuild(b, 'run', '--rm', 'from:1', 'cat', '/built');
    expect([ran.code, ran.stdout]).to.deep.equal([0, 'built\n']);
    expect(JSON.parse((await tsbuild(b, 'inspect', ref)).stdout)[0].Digest).to.equal(v1);

    const before = proxy.seen.length;
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${ref}\nRUN echo again > /again\n`);
    const second = await tsbuild(b, 'build', '--progress', 'plain', dir);
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stderr).to.not.include('load metadata');
    expect(proxy.seen.slice(before)).to.deep.equal([]);
  });

  it('--pull resolves the tag again after it moved; without it the store\'s image is used', async () => {
    const b = join(tmp.path, 'b');
    const ref = `${proxy.host}/base/bb:x`;
    const v2ctx = context('v2', 'FROM bb\nRUN echo v2 > /version\n');
    expect((await tsbuild(a, 'build', '-t', 'bb:v2', v2ctx)).code).to.equal(0);
    const v2 = await push('bb:v2', 'base/bb:x');
    expect(v2).to.not.equal(v1);

    const dir = context('pull', `FROM ${ref}\nRUN cat /version 2>/dev/null || echo none\nRUN test "$(cat /version)" = v2\n`);
    const stale = await tsbuild(b, 'build', '--progress', 'plain', dir);
    expect(stale.code).to.equal(1);
    expect(stale.stderr).to.not.include('load metadata');

    const meta = join(tmp.path, 'pull-meta.json');
    const pulled = await tsbuild(b, 'build', '--progress', 'plain', '--pull', '--metadata-file', meta, dir);
    expect(pulled.code, pulled.stderr).to.equal(0);
    expect(pulled.stderr).to.include(`resolve ${ref}@${v2}\n`);
    expect(JSON.parse(readFileSync(meta, 'utf8'))['tsbuild.base-images'][0].digest).to.equal(v2);
    expect(JSON.parse((await tsbuild(b, 'inspect', ref)).stdout)[0].Digest).to.equal(v2);
    // Restore base/bb:x for the tests after this one.
    await push('bb', 'base/bb:x');
  });

  it('--offline fails clearly on a missing image without a request, and builds from the store', async () => {
    const ref = `${proxy.host}/base/bb:x`;
    const dir = context('offline', `FROM ${ref}\nRUN true\n`);
    const before = proxy.seen.length;
    const missing = await tsbuild(join(tmp.path, 'c'), 'build', '--offline', dir);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.include(`error: Dockerfile:1:1: image "${ref}" not found in the store and --offline allows no pull\n`);
    expect(proxy.seen.length).to.equal(before);
    const stored = await tsbuild(join(tmp.path, 'b'), 'build', '--offline', dir);
    expect(stored.code, stored.stderr).to.equal(0);
    expect(proxy.seen.length).to.equal(before);
    expect((await tsbuild(join(tmp.path, 'b'), 'build', '--offline', '--pull', dir)).code).to.equal(2);
  });

  it('stages of one image, and another image with the same blobs, fetch each blob once', async () => {
    const ref = `${proxy.host}/base/bb:x`;
    const dir = context('stages', [
      `FROM ${ref} AS one`, 'RUN echo 1 > /one',
      `FROM ${ref} AS two`, 'COPY --from=one /one /one', `COPY --from=${ref} /bin/busybox /bb`,
      `RUN --mount=from=${proxy.host}/other/bb:y,target=/m test "$(cat /one)" = 1 && test -x /m/bin/busybox`, '',
    ].join('\n'));
    const from = proxy.seen.length;
    const trace = join(tmp.path, 'stages-trace.json');
    const report = join(tmp.path, 'stages-report.html');
    const r = await tsbuild(join(tmp.path, 'd'), 'build', '--progress', 'plain', '--trace', trace, '--report', report, dir);
    expect(r.code, r.stderr).to.equal(0);
    // The pull is a step of the trace and the report like any other.
    expect(readFileSync(trace, 'utf8')).to.include(`load metadata for ${ref}`);
    expect(readFileSync(report, 'utf8')).to.include(`load metadata for ${ref}`);
    // base/bb:x and other/bb:y are the same image in two repositories: its config and one layer, each fetched once.
    const digests = blobGets(from).map((l) => l.slice(l.indexOf('sha256:')));
    expect(digests.length).to.equal(2);
    expect(new Set(digests).size).to.equal(2);
    expect([...new Set(r.stderr.match(/load metadata for \S+/g))].sort()).to.deep.equal([`load metadata for ${ref}`, `load metadata for ${proxy.host}/other/bb:y`]);
  });

  it('COPY --from=<image>, RUN --mount=from=<image> and --build-context docker-image:// pull too', async () => {
    const host = proxy.host;
    const dir = context('others', [
      'FROM scratch AS s',
      `COPY --from=${host}/base/bb:x /bin/busybox /bb`,
      'FROM ctx',
      `RUN --mount=from=${host}/other/bb:y,target=/m test -x /m/bin/busybox`,
      'COPY --from=s /bb /copied',
      'RUN test -x /copied',
      '',
    ].join('\n'));
    const meta = join(tmp.path, 'others-meta.json');
    const r = await tsbuild(join(tmp.path, 'e'), 'build', '--progress', 'plain', '--metadata-file', meta, '--build-context', `ctx=docker-image://${host}/ctx/bb:z`, dir);
    expect(r.code, r.stderr).to.equal(0);
    const bases = JSON.parse(readFileSync(meta, 'utf8'))['tsbuild.base-images'] as Array<{ ref: string; digest: string }>;
    expect(bases.map((x) => x.ref).sort()).to.deep.equal([`${host}/base/bb:x`, `${host}/ctx/bb:z`, `${host}/other/bb:y`]);
    expect(bases.every((x) => x.digest === v1)).to.equal(true);
  });

  it('a missing tag is an error at the FROM line with the registry\'s code', async () => {
    const ref = `${proxy.host}/base/bb:nope`;
    const dir = context('missing', `FROM busybox AS unused\nFROM ${ref}\nRUN true\n`);
    const r = await tsbuild(join(tmp.path, 'f'), 'build', '--progress', 'plain', dir);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include(`error: Dockerfile:2:1: failed to resolve source metadata for ${ref}: registry ${proxy.host}, repository base/bb: GET manifest nope: 404 MANIFEST_UNKNOWN: manifest unknown\n`);
    expect(r.stderr).to.include(`    2 | FROM ${ref}\n`);
    expect(r.stderr).to.not.match(/\n\s+at /);
  });
});
