/**
 * `tsbuild push` and `tsbuild build --push` against docker-registry: layers
 * go up gzip'd, skopeo reads and copies what was pushed, a second push
 * uploads nothing and gives the same digest, the image comes back by
 * `tsbuild pull` with the same digest, and a flipped byte on the way in
 * leaves no tag and nothing damaged.
 */
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { MediaType, sha256 } from '@tsbuild/core';
import { RegistryClient, pushManifest, putManifest } from '@tsbuild/registry-client';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { startRegistry, type TestRegistry } from '../../registry-client/test/support/registry.js';
import { startFaultProxy } from '../../registry-client/test/support/fault-proxy.js';
import { makePki } from '../../registry-client/test/support/pki.js';
import { tsbuild } from './support.js';

const run = promisify(execFile);

describe('tsbuild push (docker-registry, skopeo)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let reg: TestRegistry;
  let a: string;
  before(async () => {
    tmp = tempDir('tsbuild-push-');
    reg = await startRegistry();
    a = join(tmp.path, 'a');
    expect((await tsbuild(a, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'bb', '--change', 'CMD ["sh"]')).code).to.equal(0);
  });
  after(async () => { await reg.stop(); tmp.cleanup(); });

  it('pushes gzip layers skopeo reads and copies; a second push uploads nothing; pull brings back the same digest', async () => {
    const ref = `${reg.host}/push/bb:v1`;
    expect((await tsbuild(a, 'tag', 'bb', ref)).code).to.equal(0);
    const pushed = await tsbuild(a, 'push', ref);
    expect(pushed.stderr).to.equal('');
    const lines = pushed.stdout.trimEnd().split('\n');
    expect(lines.slice(0, -1).map((l) => l.replace(/^[a-f0-9]{12}: /, ''))).to.deep.equal(['Pushed', 'Pushed']); // config and one layer
    const m = /^v1: digest: (sha256:[a-f0-9]{64}) size: (\d+)$/.exec(lines.at(-1)!);
    expect(m, pushed.stdout).to.not.equal(null);
    const digest = m![1]!;

    const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout);
    expect(raw.layers.map((l: { mediaType: string }) => l.mediaType)).to.deep.equal([MediaType.OciLayerGzip]);
    const inspected = JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`])).stdout);
    expect(inspected.Digest).to.equal(digest);
    // skopeo copy verifies every blob's digest on the way.
    await run('skopeo', ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${join(tmp.path, 'copied')}:v1`]);

    const again = (await tsbuild(a, 'push', ref)).stdout.trimEnd().split('\n');
    expect(again.slice(0, -1).map((l) => l.replace(/^[a-f0-9]{12}: /, ''))).to.deep.equal(['Layer already exists', 'Layer already exists']);
    expect(again.at(-1)).to.equal(lines.at(-1));

    const b = join(tmp.path, 'b');
    const pulled = await tsbuild(b, 'pull', ref);
    expect(pulled.stdout).to.include(`Digest: ${digest}\n`);
    const back = JSON.parse((await tsbuild(b, 'inspect', ref)).stdout)[0];
    const original = JSON.parse((await tsbuild(a, 'inspect', 'bb')).stdout)[0];
    expect(back.RootFS).to.deep.equal(original.RootFS);
    expect(back.Config).to.deep.equal(original.Config);
  });

  it('mounts blobs from another repository of the same registry the store pushed them to', async () => {
    // push/bb:v1 was pushed by the first test and is still tagged in store a.
    const ref = `${reg.host}/mounted/bb:v1`;
    expect((await tsbuild(a, 'tag', 'bb', ref)).code).to.equal(0);
    const r = await tsbuild(a, 'push', ref);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.trimEnd().split('\n').slice(0, -1).map((l) => l.replace(/^[a-f0-9]{12}: /, ''))).to.deep.equal(['Mounted', 'Mounted']);
    const first = JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/push/bb:v1`])).stdout);
    const mounted = JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`])).stdout);
    expect(mounted.Digest).to.equal(first.Digest);
  });

  it('a store that pulled an image from one repository pushes it to another by mounts: no blob byte uploaded', async () => {
    // push/bb:v1 is in the registry (first test); a fresh store pulls it, then pushes it elsewhere, both through a counting proxy.
    const b = join(tmp.path, 'b');
    const proxy = await startFaultProxy(reg.host);
    try {
      expect((await tsbuild(b, 'pull', `${proxy.host}/push/bb:v1`)).code).to.equal(0);
      const ref = `${proxy.host}/elsewhere/copy:v1`;
      expect((await tsbuild(b, 'tag', `${proxy.host}/push/bb:v1`, ref)).code).to.equal(0);
      const [seenBefore, bytesBefore] = [proxy.seen.length, proxy.forwardedBytes];
      const r = await tsbuild(b, 'push', ref);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout.trimEnd().split('\n').slice(0, -1).map((l) => l.replace(/^[a-f0-9]{12}: /, ''))).to.deep.equal(['Mounted', 'Mounted']);
      const seen = proxy.seen.slice(seenBefore);
      expect(seen.filter((x) => x.startsWith('POST'))).to.have.length(2).and.deep.equal(seen.filter((x) => x.includes('?mount=') && x.includes('&from=push%2Fbb')));
      expect(seen.filter((x) => /^(PATCH|PUT) .*\/blobs\/uploads\//.test(x))).to.deep.equal([]);
      const manifestBytes = Number(/size: (\d+)$/m.exec(r.stdout)![1]);
      expect(proxy.forwardedBytes - bytesBefore).to.equal(manifestBytes);
    } finally {
      await proxy.close();
    }
    expect(readdirSync(join(b, 'blob-sources'))).to.have.length(3);
  });

  it('build --push pushes every -t and prints the digest', async () => {
    const ctxDir = join(tmp.path, 'ctx');
    mkdirSync(ctxDir);
    writeFileSync(join(ctxDir, 'Dockerfile'), 'FROM bb\nCOPY hello /hello\n');
    writeFileSync(join(ctxDir, 'hello'), 'hi\n');
    const ref = `${reg.host}/push/built:v2`;
    const r = await tsbuild(a, 'build', '--progress', 'plain', '--push', '-t', ref, '--metadata-file', join(tmp.path, 'meta.json'), ctxDir);
    expect(r.code, r.stderr).to.equal(0);
    const m = /^v2: digest: (sha256:[a-f0-9]{64}) size: \d+$/m.exec(r.stdout);
    expect(m, r.stdout).to.not.equal(null);
    const inspected = JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`])).stdout);
    expect(inspected.Digest).to.equal(m![1]);
    expect(inspected.Layers).to.have.length(2);
    const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout);
    expect(raw.layers.map((l: { mediaType: string }) => l.mediaType)).to.deep.equal([MediaType.OciLayerGzip, MediaType.OciLayerGzip]);
    // The COPY layer is uncompressed in the store; its gzip'd form is remembered as a variant, so the next push does not compress again.
    const local = JSON.parse((await tsbuild(a, 'inspect', ref)).stdout)[0];
    expect(local.Manifest.layers[1].mediaType).to.equal(MediaType.OciLayer);
    expect(readdirSync(join(a, 'layer-variants', 'gzip'))).to.have.length(1);
    const again = await tsbuild(a, 'push', ref);
    expect(again.stdout.trimEnd().split('\n').slice(0, -1).map((l) => l.replace(/^[a-f0-9]{12}: /, ''))).to.deep.equal(Array(3).fill('Layer already exists'));
    expect(again.stdout).to.include(`v2: digest: ${m![1]} size:`);
    const meta = JSON.parse(readFileSync(join(tmp.path, 'meta.json'), 'utf8'));
    expect([meta['containerimage.digest'], meta['image.name']]).to.deep.equal([m![1], ref]);
  });

  it('refuses --push without -t', async () => {
    const r = await tsbuild(a, 'build', '--push', tmp.path);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.include('--push needs at least one -t/--tag');
  });

  it('a flipped byte in a pulled blob fails with DIGEST_MISMATCH, tags nothing and leaves the store clean', async () => {
    const proxy = await startFaultProxy(reg.host);
    try {
      proxy.inject((r) => r.method === 'GET' && (r.url ?? '').includes('/blobs/'), ['flip']);
      const c = join(tmp.path, 'c');
      const ref = `${proxy.host}/push/bb:v1`;
      const r = await tsbuild(c, 'pull', ref);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/^error: digest mismatch: expected sha256:[a-f0-9]{64}, got sha256:[a-f0-9]{64}\n$/);
      expect((await tsbuild(c, 'images', '--format', 'json')).stdout).to.not.include('push/bb');
      const fsck = await tsbuild(c, 'fsck');
      expect(fsck.code, fsck.stdout + fsck.stderr).to.equal(0);
    } finally {
      await proxy.close();
    }
  });

  it('trusts a TLS registry through --registry-ca for push and pull, and says why without it', async () => {
    const pki = makePki();
    const tls = await startRegistry({ tls: pki });
    try {
      const caFile = join(tmp.path, 'registry-ca.pem');
      writeFileSync(caFile, pki.ca.certPem);
      const ref = `${tls.host}/tls/bb:v1`;
      expect((await tsbuild(a, 'tag', 'bb', ref)).code).to.equal(0);
      const refused = await tsbuild(a, 'push', ref);
      expect([refused.code, refused.stderr]).to.deep.equal([1, `error: registry ${tls.host}: GET /v2/: connection failed: unable to verify the first certificate\n`]);
      const pushed = await tsbuild(a, 'push', '--registry-ca', caFile, ref);
      expect(pushed.code, pushed.stderr).to.equal(0);
      const pulled = await tsbuild(join(tmp.path, 'd'), 'pull', '--registry-ca', caFile, ref);
      expect(pulled.code, pulled.stderr).to.equal(0);
      expect(pulled.stdout).to.include(/digest: (sha256:[a-f0-9]{64})/.exec(pushed.stdout)![1]);
      const missing = await tsbuild(a, 'push', '--registry-ca', join(tmp.path, 'nope.pem'), ref);
      expect([missing.code, missing.stderr]).to.deep.equal([2, `error: --registry-ca: cannot read ${join(tmp.path, 'nope.pem')}: ENOENT\nUsage: tsbuild push [OPTIONS] REF\n`]);
    } finally {
      await tls.stop();
    }
  });

  it('pushes a multi-platform index loaded into the store as an index, each platform pullable', async () => {
    // A two-platform index made in the registry with the client API, copied by skopeo into an OCI archive, loaded.
    const client = new RegistryClient({ credentials: async () => undefined });
    const blobs = new Map<string, Buffer>();
    const add = (bytes: Buffer, mediaType: string) => { blobs.set(sha256(bytes), bytes); return { mediaType, digest: sha256(bytes), size: bytes.length }; };
    const open = async (d: { digest: string }, start: number) => Readable.from([blobs.get(d.digest)!.subarray(start)]);
    const entries = [];
    for (const architecture of ['amd64', 'arm64']) {
      const dir = join(tmp.path, `layer-${architecture}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'arch'), architecture);
      const tar = execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-cf', '-', '-C', dir, '.']);
      const layer = add(gzipSync(tar), MediaType.OciLayerGzip);
      const config = add(Buffer.from(JSON.stringify({ architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(tar)] } })), MediaType.OciConfig);
      const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers: [layer] }));
      const digest = await pushManifest(client, { registry: reg.host, repository: 'multi/src', tag: architecture }, { mediaType: MediaType.OciManifest, bytes, blobs: [config, layer] }, open);
      entries.push({ mediaType: MediaType.OciManifest, digest, size: bytes.length, platform: { os: 'linux', architecture } });
    }
    await putManifest(client, { registry: reg.host, repository: 'multi/src', tag: 'v1' }, MediaType.OciIndex, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: entries })));
    await client.close();
    const archive = join(tmp.path, 'multi.oci.tar');
    await run('skopeo', ['copy', '--all', '--src-tls-verify=false', `docker://${reg.host}/multi/src:v1`, `oci-archive:${archive}:multi`]);
    const store = join(tmp.path, 'multi-store');
    const loaded = await tsbuild(store, 'load', '-i', archive);
    expect(loaded.code, loaded.stderr).to.equal(0);
    const ref = `${reg.host}/multi/pushed:v1`;
    expect((await tsbuild(store, 'tag', 'multi', ref)).code).to.equal(0);

    const pushed = await tsbuild(store, 'push', ref);
    expect([pushed.code, pushed.stderr]).to.deep.equal([0, '']);
    const digest = /^v1: digest: (sha256:[a-f0-9]{64}) size: \d+$/m.exec(pushed.stdout)![1];
    const rawBytes = (await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'buffer' })).stdout as Buffer;
    expect(sha256(rawBytes)).to.equal(digest);
    const raw = JSON.parse(rawBytes.toString());
    expect(raw.mediaType).to.equal(MediaType.OciIndex);
    expect(raw.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).to.deep.equal(['amd64', 'arm64']);
    const arm = await tsbuild(join(tmp.path, 'multi-pull'), 'pull', '--platform', 'linux/arm64', ref);
    expect(arm.code, arm.stderr).to.equal(0);
    // docker prints the digest the name resolved to: the index.
    expect(arm.stdout).to.include(`Digest: ${digest}\n`);
  });
});
