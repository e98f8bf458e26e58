/**
 * Multi-platform builds (issue 17): `--platform linux/amd64,linux/arm64`
 * over an amd64 busybox and Debian's arm64 busybox-static (RUN for arm64
 * runs under QEMU user emulation, registered by scripts/setup.sh), one
 * index in the store, in an oci archive and pushed to docker-registry where
 * skopeo picks a platform; a `FROM --platform=$BUILDPLATFORM` stage runs
 * once for both targets; a platform the host cannot run fails at its RUN
 * saying how to enable it.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MediaType } from '@tsbuild/core';
import { platformNotRunnable } from '@tsbuild/runtime';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { makeArm64BusyboxRootfs, unrunnablePlatform } from '../../test/support/arm64-busybox.js';
import { startRegistry, type TestRegistry } from '../../registry-client/test/support/registry.js';
import { tsbuild } from './support.js';

const run = promisify(execFile);

/**
 * `tool` runs on the build platform and counts its executions in a cache
 * mount (shared by every RUN naming id=runs); each target copies the tool's
 * output and the count, and records its own architecture.
 */
const DOCKERFILE = `ARG TARGETARCH
FROM --platform=$BUILDPLATFORM bb:amd64 AS tool
RUN --mount=type=cache,id=runs,target=/runs echo run >> /runs/count && cat /proc/sys/kernel/random/uuid > /tool
FROM bb:$TARGETARCH
ARG TARGETPLATFORM
ARG TARGETVARIANT
COPY --from=tool /tool /tool
RUN --mount=type=cache,id=runs,target=/runs cp /runs/count /count && uname -m > /arch && echo "$TARGETPLATFORM [$TARGETVARIANT]" > /target
`;

interface IndexJson {
  mediaType: string;
  manifests: Array<{ mediaType: string; digest: string; platform: { os: string; architecture: string; variant?: string } }>;
}

describe('multi-platform build (QEMU for arm64)', function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  let ctx: string;
  let reg: TestRegistry;

  before(async () => {
    tmp = tempDir('tsbuild-multi-platform-');
    root = join(tmp.path, 'store');
    ctx = join(tmp.path, 'ctx');
    reg = await startRegistry();
    expect((await tsbuild(root, 'import', '--platform', 'linux/amd64', makeBusyboxRootfs(join(tmp.path, 'amd64')), '-t', 'bb:amd64')).code).to.equal(0);
    expect((await tsbuild(root, 'import', '--platform', 'linux/arm64', makeArm64BusyboxRootfs(join(tmp.path, 'arm64')), '-t', 'bb:arm64')).code).to.equal(0);
    await run('mkdir', ['-p', ctx]);
    writeFileSync(join(ctx, 'Dockerfile'), DOCKERFILE);
  });
  after(async () => {
    await reg?.stop();
    tmp.cleanup();
  });

  it('builds both platforms in one index; RUN says x86_64 and aarch64; the build-platform stage runs once for both', async () => {
    const out = join(tmp.path, 'rootfs');
    const archive = join(tmp.path, 'index.tar');
    const r = await tsbuild(root, 'build', '--offline', '--progress', 'plain', '--platform', 'linux/amd64,linux/arm64', '-t', 'app:multi',
      '-o', 'type=image', '-o', `type=local,dest=${out}`, '-o', `type=oci,dest=${archive}`, ctx);
    expect(r.code, r.stderr).to.equal(0);
    const file = (platform: string, name: string) => readFileSync(join(out, platform, name), 'utf8').trim();
    expect(file('linux_amd64', 'arch')).to.equal('x86_64');
    expect(file('linux_arm64', 'arch')).to.equal('aarch64');
    // BuildKit's normalized platform ARGs: linux/arm64 with no variant.
    expect(file('linux_amd64', 'target')).to.equal('linux/amd64 []');
    expect(file('linux_arm64', 'target')).to.equal('linux/arm64 []');
    // One execution of the tool stage, its one output in both images.
    expect(file('linux_amd64', 'count')).to.equal('run');
    expect(file('linux_arm64', 'count')).to.equal('run');
    expect(file('linux_arm64', 'tool')).to.equal(file('linux_amd64', 'tool'));
    expect(r.stderr).to.include('[linux/arm64 stage-1 3/3] RUN');

    const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', `oci-archive:${archive}`])).stdout) as IndexJson;
    expect(raw.mediaType).to.equal(MediaType.OciIndex);
    expect(raw.manifests.map((m) => m.platform.architecture)).to.deep.equal(['amd64', 'arm64']);
    const inspected = JSON.parse((await tsbuild(root, 'inspect', 'app:multi')).stdout);
    expect(inspected[0].Descriptor.mediaType).to.equal(MediaType.OciIndex);
  });

  it('images --tree lists the platforms; run --platform picks one; save and load keep the index whole', async () => {
    const tree = (await tsbuild(root, 'images', '--tree', 'app:multi')).stdout.split('\n');
    expect(tree[2]).to.match(/^├─ linux\/amd64\s+[0-9a-f]{12}\s*$/);
    expect(tree[3]).to.match(/^└─ linux\/arm64\s+[0-9a-f]{12}\s*$/);
    const json = JSON.parse((await tsbuild(root, 'images', '--format', 'json', 'app:multi')).stdout);
    expect(json[0].platforms.map((p: { platform: string }) => p.platform)).to.deep.equal(['linux/amd64', 'linux/arm64']);

    const arch = async (store: string, ...platform: string[]) => {
      const r = await tsbuild(store, 'run', '--rm', ...platform, 'app:multi', 'cat', '/arch');
      expect(r.code, r.stderr).to.equal(0);
      return r.stdout.trim();
    };
    expect(await arch(root)).to.equal('x86_64');
    expect(await arch(root, '--platform', 'linux/arm64')).to.equal('aarch64');
    const mismatch = await tsbuild(root, 'run', '--rm', '--platform', 'linux/arm64', 'bb:amd64', 'true');
    expect(mismatch.code).to.equal(125);
    expect(mismatch.stderr).to.include('image "bb:amd64" is linux/amd64, not the requested linux/arm64');

    const archive = join(tmp.path, 'saved.tar');
    expect((await tsbuild(root, 'save', '--format', 'oci', '-o', archive, 'app:multi')).code).to.equal(0);
    const other = join(tmp.path, 'loaded-store');
    expect((await tsbuild(other, 'load', '-i', archive)).code).to.equal(0);
    const loaded = JSON.parse((await tsbuild(other, 'images', '--format', 'json')).stdout);
    expect(loaded[0].digest).to.equal(json[0].digest);
    expect(loaded[0].platforms).to.deep.equal(json[0].platforms);
    expect(await arch(other, '--platform', 'linux/arm64')).to.equal('aarch64');
  });

  it('pushes the index: the registry serves it and skopeo --override-arch arm64 copies the arm64 image', async () => {
    const ref = `${reg.host}/mp/app:v1`;
    const r = await tsbuild(root, 'build', '--offline', '--progress', 'quiet', '--platform', 'linux/amd64,linux/arm64', '-t', ref, '--push', ctx);
    expect(r.code, r.stderr).to.equal(0);
    const raw = JSON.parse((await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])).stdout) as IndexJson;
    expect(raw.mediaType).to.equal(MediaType.OciIndex);
    const arm = raw.manifests.find((m) => m.platform.architecture === 'arm64')!;
    const dest = join(tmp.path, 'copied');
    await run('skopeo', ['copy', '--override-arch', 'arm64', '--src-tls-verify=false', `docker://${ref}`, `oci:${dest}:arm`]);
    const layout = JSON.parse(readFileSync(join(dest, 'index.json'), 'utf8')) as IndexJson;
    expect(layout.manifests[0]!.digest).to.equal(arm.digest);
    const inspected = JSON.parse((await run('skopeo', ['inspect', '--override-arch', 'arm64', '--tls-verify=false', `docker://${ref}`])).stdout);
    expect(inspected.Architecture).to.equal('arm64');

    // pull --platform takes the arm64 image from the index (whether the store then keeps the index is the pull's business).
    const puller = join(tmp.path, 'pull-store');
    const pulled = await tsbuild(puller, 'pull', '--platform', 'linux/arm64', ref);
    expect(pulled.code, pulled.stderr).to.equal(0);
    const listed = JSON.parse((await tsbuild(puller, 'images', '--format', 'json')).stdout);
    expect(listed[0].platforms.filter((p: { present: boolean }) => p.present).map((p: { platform: string }) => p.platform)).to.deep.equal(['linux/arm64']);
    const ran = await tsbuild(puller, 'run', '--rm', '--platform', 'linux/arm64', ref, 'cat', '/arch');
    expect(ran.stdout.trim(), ran.stderr).to.equal('aarch64');
  });

  it('oci-mediatypes=false writes a Docker manifest list; a docker archive is refused as BuildKit refuses it', async () => {
    const r = await tsbuild(root, 'build', '--offline', '--progress', 'quiet', '--platform', 'linux/amd64,linux/arm64', '-t', 'app:docker', '-o', 'type=image,oci-mediatypes=false', ctx);
    expect(r.code, r.stderr).to.equal(0);
    const inspected = JSON.parse((await tsbuild(root, 'inspect', 'app:docker')).stdout);
    expect(inspected[0].Descriptor.mediaType).to.equal(MediaType.DockerManifestList);

    const refused = await tsbuild(root, 'build', '--offline', '--progress', 'quiet', '--platform', 'linux/amd64,linux/arm64', '-o', `type=docker,dest=${join(tmp.path, 'd.tar')}`, ctx);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include('a multi-platform build cannot write the docker exporter');
  });

  it('a RUN for a platform the host cannot run fails at that RUN, saying how to enable it', async () => {
    const { platform, support } = await unrunnablePlatform();
    writeFileSync(join(tmp.path, 'Dockerfile.foreign'), 'FROM bb:amd64\nRUN true\n');
    const r = await tsbuild(root, 'build', '--offline', '--progress', 'plain', '--platform', `linux/${platform.architecture}`, '-f', join(tmp.path, 'Dockerfile.foreign'), ctx);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.include(`[2/2] RUN true: ${platformNotRunnable(platform, support).message}`);
    expect(r.stderr).to.match(/Dockerfile\.foreign:2/);
    expect(r.stderr).to.not.include('exec format error');
  });
});
