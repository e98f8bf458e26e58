/**
 * `tsbuild build --output type=image,…,push=true` and `type=registry` against
 * docker-registry, read back by skopeo: the compression and media-type
 * options of BuildKit's image exporter, several names, the pushed digest in
 * --metadata-file, and compressed variants reused by the next push.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MediaType } from '@tsbuild/core';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { startRegistry, type TestRegistry } from '../../registry-client/test/support/registry.js';
import { startFaultProxy } from '../../registry-client/test/support/fault-proxy.js';
import { tsbuild } from './support.js';

const run = promisify(execFile);

async function rawManifest(ref: string): Promise<{ mediaType: string; layers: { mediaType: string; digest: string }[] }> {
  return JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout);
}

async function skopeoDigest(ref: string): Promise<string> {
  return JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`])).stdout).Digest;
}

describe('tsbuild build --output type=image,push=true / type=registry (docker-registry, skopeo)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let reg: TestRegistry;
  let store: string;
  let ctxDir: string;
  before(async () => {
    tmp = tempDir('tsbuild-push-outputs-');
    reg = await startRegistry();
    store = join(tmp.path, 'store');
    expect((await tsbuild(store, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'bb')).code).to.equal(0);
    ctxDir = join(tmp.path, 'ctx');
    mkdirSync(ctxDir);
    writeFileSync(join(ctxDir, 'Dockerfile'), 'FROM bb\nCOPY hello /hello\n');
    writeFileSync(join(ctxDir, 'hello'), 'hi\n');
  });
  after(async () => { await reg.stop(); tmp.cleanup(); });

  it('compression=zstd pushes OCI zstd layers (the base re-encoded with force-compression) and writes the pushed digest and descriptor', async () => {
    const ref = `${reg.host}/out/zstd:v1`;
    const meta = join(tmp.path, 'zstd.json');
    const r = await tsbuild(store, 'build', '--progress', 'quiet', '--metadata-file', meta,
      '-o', `type=image,name=${ref},push=true,compression=zstd,compression-level=5,force-compression=true`, ctxDir);
    expect(r.code, r.stderr).to.equal(0);
    const raw = await rawManifest(ref);
    expect(raw.mediaType).to.equal(MediaType.OciManifest);
    expect(raw.layers.map((l) => l.mediaType)).to.deep.equal([MediaType.OciLayerZstd, MediaType.OciLayerZstd]);
    const digest = await skopeoDigest(ref);
    const m = JSON.parse(readFileSync(meta, 'utf8'));
    expect(m['containerimage.digest']).to.equal(digest);
    expect(m['image.name']).to.equal(ref);
    expect(m['containerimage.descriptor']).to.include({ mediaType: MediaType.OciManifest, digest });
    // skopeo can copy it out (it decompresses zstd layers to verify them).
    await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(tmp.path, 'zstd-layout')}:x`]);
  });

  it('type=registry pushes every name (name= and -t), gzip by default; oci-mediatypes=false gives Docker types', async () => {
    const [r1, r2, r3] = [`${reg.host}/out/reg:a`, `${reg.host}/out/reg:b`, `${reg.host}/out/other:c`];
    const meta = join(tmp.path, 'reg.json');
    const r = await tsbuild(store, 'build', '--progress', 'quiet', '--metadata-file', meta, '-t', r3, '-o', `type=registry,"name=${r1},${r2}",oci-mediatypes=false`, ctxDir);
    expect(r.code, r.stderr).to.equal(0);
    const digests = await Promise.all([r1, r2, r3].map(skopeoDigest));
    expect(new Set(digests).size).to.equal(1);
    const raw = await rawManifest(r1);
    expect(raw.mediaType).to.equal(MediaType.DockerManifest);
    expect(raw.layers.map((l) => l.mediaType)).to.deep.equal([MediaType.DockerLayerGzip, MediaType.DockerLayerGzip]);
    expect(JSON.parse(readFileSync(meta, 'utf8'))['containerimage.digest']).to.equal(digests[0]);
    expect(r.stdout.match(/digest: sha256:/g)).to.have.length(3);
  });

  it('keeps compressed variants across processes and prunes: a later push compresses nothing; fsck is clean', async () => {
    const dir = join(tmp.path, 'ctx2');
    mkdirSync(dir);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM bb\nCOPY data /data\n');
    writeFileSync(join(dir, 'data'), 'variant '.repeat(10_000));
    expect((await tsbuild(store, 'build', '--progress', 'quiet', '-t', 'v', dir)).code).to.equal(0);
    const entries = () => Object.fromEntries(['gzip', 'zstd'].flatMap((c) => {
      const d = join(store, 'layer-variants', c);
      return readdirSync(d).map((f) => [`${c}/${f}`, statSync(join(d, f)).ino]);
    }));
    for (const c of ['gzip', 'zstd']) {
      const r = await tsbuild(store, 'build', '--progress', 'quiet', '-o', `type=registry,name=${reg.host}/out/v:${c},compression=${c}`, dir);
      expect(r.code, r.stderr).to.equal(0);
    }
    const made = entries();
    // Nothing names the variants but their layers: prune keeps them with the layers.
    expect((await tsbuild(store, 'prune', '--grace', '0')).code).to.equal(0);
    for (const c of ['gzip', 'zstd']) {
      const r = await tsbuild(store, 'build', '--progress', 'quiet', '-o', `type=registry,name=${reg.host}/out/v2:${c},compression=${c}`, dir);
      expect(r.code, r.stderr).to.equal(0);
    }
    expect(entries()).to.deep.equal(made);
    expect(await skopeoDigest(`${reg.host}/out/v2:zstd`)).to.equal(await skopeoDigest(`${reg.host}/out/v:zstd`));
    const fsck = await tsbuild(store, 'fsck');
    expect(fsck.code, fsck.stdout + fsck.stderr).to.equal(0);
  });

  it('refuses push=true without a name, zstd with oci-mediatypes=false and a level the compression lacks', async () => {
    const cases: Array<[string[], string]> = [
      [['-o', 'type=image,push=true'], 'needs at least one -t/--tag or name='],
      [['-o', `type=registry,name=${reg.host}/x:y,compression=zstd,oci-mediatypes=false`], '"compression=zstd" conflicts with "oci-mediatypes=false"'],
      [['-o', `type=registry,name=${reg.host}/x:y,compression-level=12`], 'compression-level=12 is not a level of compression=gzip (0–9)'],
      [['-o', `type=registry,name=${reg.host}/x:y,compression-level=x`], 'compression-level= expects an integer'],
    ];
    for (const [flags, message] of cases) {
      const r = await tsbuild(store, 'build', ...flags, ctxDir);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.include(message);
    }
  });

  it('through a registry that stalls, push and pull time out (--registry-timeout) and retry; one that always stalls is a precise error; fsck is clean', async () => {
    const proxy = await startFaultProxy(reg.host);
    try {
      const ref = `${proxy.host}/out/stall:v1`;
      expect((await tsbuild(store, 'tag', 'bb', ref)).code).to.equal(0);
      proxy.inject((r) => r.method === 'PUT' && (r.url ?? '').includes('/blobs/uploads/'), ['stall']);
      const pushed = await tsbuild(store, 'push', '--registry-timeout', '2', ref);
      expect(pushed.code, pushed.stderr).to.equal(0);
      const digest = /digest: (sha256:[a-f0-9]{64})/.exec(pushed.stdout)![1];
      expect(await skopeoDigest(`${reg.host}/out/stall:v1`)).to.equal(digest);

      const fresh = join(tmp.path, 'fresh');
      const layer = (await rawManifest(`${reg.host}/out/stall:v1`)).layers[0]!.digest;
      proxy.inject((r) => r.method === 'GET' && (r.url ?? '').endsWith(layer), ['stall-body']);
      const pulled = await tsbuild(fresh, 'pull', '--registry-timeout', '2', ref);
      expect(pulled.code, pulled.stderr).to.equal(0);
      expect(JSON.parse((await tsbuild(fresh, 'inspect', ref)).stdout)[0].Descriptor.digest).to.equal(digest);

      const dead = join(tmp.path, 'dead');
      proxy.inject((r) => r.method === 'GET' && (r.url ?? '').endsWith(layer), Array(20).fill('stall-body'));
      const failed = await tsbuild(dead, 'pull', '--registry-timeout', '2', ref);
      expect(failed.code).to.equal(1);
      expect(failed.stderr).to.include(`registry ${proxy.host}, repository out/stall, digest ${layer}: GET blob: timed out: the response body stalled longer than the idle timeout`);
      expect(failed.stderr).to.not.match(/\n\s+at /);
      for (const root of [store, fresh, dead]) {
        const fsck = await tsbuild(root, 'fsck');
        expect(fsck.code, fsck.stdout + fsck.stderr).to.equal(0);
      }
    } finally {
      await proxy.close();
    }
  });
});
