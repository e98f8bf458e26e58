/**
 * `tsbuild pull` against a real registry (Debian's docker-registry on
 * 127.0.0.1): an image pushed by `skopeo copy` is pulled, its digest equals
 * what skopeo reads back, it runs, fsck finds nothing damaged, a second pull fetches
 * nothing, its layers are unpacked by the pull (a committed snapshot per
 * chain id, nothing left active), and an unknown tag is a precise error.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MediaType, formatPlatform, hostPlatform, parsePlatform, sha256 } from '@tsbuild/core';
import { RegistryClient, putManifest } from '@tsbuild/registry-client';
import { chainIds, openStore } from '@tsbuild/store';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { startRegistry, type TestRegistry } from '../../registry-client/test/support/registry.js';
import { tsbuild } from './support.js';

const run = promisify(execFile);

describe('tsbuild pull (docker-registry, skopeo)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let reg: TestRegistry;
  before(async () => {
    tmp = tempDir('tsbuild-pull-');
    reg = await startRegistry();
  });
  after(async () => { await reg.stop(); tmp.cleanup(); });

  it('pulls what skopeo copy pushed, with the digest skopeo reads, and fetches nothing the second time', async () => {
    const a = join(tmp.path, 'a');
    const rootfs = makeBusyboxRootfs(join(tmp.path, 'rootfs'));
    expect((await tsbuild(a, 'import', rootfs, '-t', 'bb', '--change', 'CMD ["sh"]')).code).to.equal(0);
    const archive = join(tmp.path, 'bb.tar');
    expect((await tsbuild(a, 'save', '--format', 'oci', '-o', archive, 'bb')).code).to.equal(0);
    const ref = `${reg.host}/interop/bb:v1`;
    await run('skopeo', ['copy', '--dest-tls-verify=false', `oci-archive:${archive}`, `docker://${ref}`]);
    const dockerRef = `${reg.host}/interop/bb:docker`;
    await run('skopeo', ['copy', '--format', 'v2s2', '--dest-tls-verify=false', `oci-archive:${archive}`, `docker://${dockerRef}`]);
    const raw = (await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`], { encoding: 'buffer' })).stdout as Buffer;

    const b = join(tmp.path, 'b');
    const pulled = await tsbuild(b, 'pull', ref);
    expect(pulled.stderr).to.equal('');
    expect(pulled.code).to.equal(0);
    expect(pulled.stdout).to.match(/^Pulled \d+ blobs for /);
    expect(pulled.stdout).to.include(`Digest: ${sha256(raw)}\n${ref}\n`);
    const inspect = JSON.parse((await tsbuild(b, 'inspect', ref)).stdout)[0];
    const original = JSON.parse((await tsbuild(a, 'inspect', 'bb')).stdout)[0];
    expect(inspect.Config).to.deep.equal(original.Config);
    expect(inspect.Config.rootfs).to.deep.equal(original.Config.rootfs);
    expect((await tsbuild(b, 'fsck')).code).to.equal(0);
    const snapshots: string[] = [];
    for await (const s of (await (await openStore({ root: b })).snapshotter()).walk()) snapshots.push(`${s.kind}:${s.key}`);
    expect(snapshots.sort()).to.deep.equal(chainIds(original.Config.rootfs.diff_ids).map((c) => `committed:${c}`).sort());
    const ran = await tsbuild(b, 'run', '--rm', ref, 'sh', '-c', 'echo pulled-and-ran');
    expect([ran.code, ran.stdout]).to.deep.equal([0, 'pulled-and-ran\n']);

    // The same image with Docker schema2 media types.
    const rawDocker = JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${dockerRef}`])).stdout);
    expect(rawDocker.mediaType).to.equal('application/vnd.docker.distribution.manifest.v2+json');
    const pulledDocker = await tsbuild(b, 'pull', dockerRef);
    expect(pulledDocker.code, pulledDocker.stderr).to.equal(0);
    expect(JSON.parse((await tsbuild(b, 'inspect', dockerRef)).stdout)[0].Config.rootfs).to.deep.equal(original.Config.rootfs);

    // By digest: stored under the digest reference.
    const byDigest = `${reg.host}/interop/bb@${sha256(raw)}`;
    const pulledByDigest = await tsbuild(join(tmp.path, 'e'), 'pull', byDigest);
    expect([pulledByDigest.code, pulledByDigest.stderr]).to.deep.equal([0, '']);
    expect(JSON.parse((await tsbuild(join(tmp.path, 'e'), 'inspect', byDigest)).stdout)[0].Config.rootfs).to.deep.equal(original.Config.rootfs);

    const again = await tsbuild(b, 'pull', ref);
    expect(again.stdout).to.equal(`Image is up to date for ${ref}\nDigest: ${sha256(raw)}\n${ref}\n`);
  });

  it('pulls a multi-platform image as its index: the index digest is the repo digest, another platform joins it, push and save keep both', async () => {
    const a = join(tmp.path, 'mp-a');
    const rootfs = makeBusyboxRootfs(join(tmp.path, 'mp-rootfs'));
    const repo = `${reg.host}/multi/bb`;
    const manifests = [];
    for (const [tag, platform] of [['host', formatPlatform(hostPlatform())], ['arm', 'linux/arm64']] as const) {
      expect((await tsbuild(a, 'import', rootfs, '-t', `${repo}:${tag}`, '--platform', platform, '--change', 'CMD ["sh"]')).code).to.equal(0);
      const pushed = await tsbuild(a, 'push', `${repo}:${tag}`);
      expect(pushed.code, pushed.stderr).to.equal(0);
      const digest = /digest: (sha256:[a-f0-9]{64}) size: (\d+)$/.exec(pushed.stdout.trimEnd())!;
      manifests.push({ mediaType: MediaType.OciManifest, digest: digest[1], size: Number(digest[2]), platform: parsePlatform(platform) });
    }
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }));
    const client = new RegistryClient({ credentials: async () => undefined });
    await putManifest(client, { registry: reg.host, repository: 'multi/bb', tag: 'v1' }, MediaType.OciIndex, index).finally(() => client.close());
    const indexDigest = sha256(index);

    const b = join(tmp.path, 'mp-b');
    const pulled = await tsbuild(b, 'pull', `${repo}:v1`);
    expect(pulled.code, pulled.stderr).to.equal(0);
    expect(pulled.stdout).to.include(`Digest: ${indexDigest}\n`);
    const inspect = async (root: string) => JSON.parse((await tsbuild(root, 'inspect', `${repo}:v1`)).stdout)[0];
    const first = await inspect(b);
    expect([first.Digest, first.RepoDigests, first.Platform]).to.deep.equal([indexDigest, [`${repo}@${indexDigest}`], formatPlatform(hostPlatform())]);
    const ran = await tsbuild(b, 'run', '--rm', `${repo}:v1`, 'sh', '-c', 'echo from-the-index');
    expect([ran.code, ran.stdout]).to.deep.equal([0, 'from-the-index\n']);

    // The other platform joins the same tag; the host's stays.
    expect((await tsbuild(b, 'pull', '--platform', 'linux/arm64', `${repo}:v1`)).code).to.equal(0);
    expect((await inspect(b)).Digest).to.equal(indexDigest);
    expect((await tsbuild(b, 'fsck')).code).to.equal(0);

    // Push to another repository: the same index, both manifests with it.
    expect((await tsbuild(b, 'tag', `${repo}:v1`, `${reg.host}/multi/copy:v1`)).code).to.equal(0);
    const pushed = await tsbuild(b, 'push', `${reg.host}/multi/copy:v1`);
    expect(pushed.code, pushed.stderr).to.equal(0);
    expect(pushed.stdout.trimEnd().split('\n').at(-1)).to.equal(`v1: digest: ${indexDigest} size: ${index.length}`);

    // save writes the index as the image.
    const archive = join(tmp.path, 'mp.tar');
    expect((await tsbuild(b, 'save', '--format', 'oci', '-o', archive, `${repo}:v1`)).code).to.equal(0);
    const saved = JSON.parse((await run('tar', ['-xOf', archive, 'index.json'])).stdout) as { manifests: { digest: string }[] };
    expect(saved.manifests.map((m) => m.digest)).to.deep.equal([indexDigest]);

    // A store that pulled only arm64 shows that platform.
    const c = join(tmp.path, 'mp-c');
    expect((await tsbuild(c, 'pull', '--platform', 'linux/arm64', '--no-unpack', `${repo}:v1`)).code).to.equal(0);
    const armOnly = await inspect(c);
    expect([armOnly.Digest, armOnly.Platform]).to.deep.equal([indexDigest, 'linux/arm64/v8']);
    expect((await tsbuild(c, 'fsck')).code).to.equal(0);
  });

  it('names registry, repository and code when the tag does not exist', async () => {
    const r = await tsbuild(join(tmp.path, 'c'), 'pull', `${reg.host}/interop/none:v9`);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.equal(`error: registry ${reg.host}, repository interop/none: GET manifest v9: 404 MANIFEST_UNKNOWN: manifest unknown\n`);
    expect(r.stderr).to.not.match(/\n\s+at /);
  });
});
