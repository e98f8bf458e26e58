/**
 * Issue 14's interop with a real Docker engine through a registry: what
 * `tsbuild push` sends, a private dockerd pulls and runs; what `docker push`
 * sends (Docker schema2, gzip layers), `tsbuild pull` takes and runs. The
 * registry is Debian's docker-registry on 127.0.0.1, which dockerd treats as
 * insecure-allowed (127.0.0.0/8) as tsbuild does.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { tsbuild } from '../cli/test/support.js';
import { startRegistry, type TestRegistry } from '../registry-client/test/support/registry.js';
import { startDockerd, type Dockerd } from './support/dockerd.js';
import { makeBusyboxRootfs, tempDir } from './support/fixtures.js';

describe('docker interop through a registry: tsbuild push → docker pull/run, docker push → tsbuild pull/run', function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let dockerd: Dockerd;
  let reg: TestRegistry;
  let root: string;

  before(async () => {
    tmp = tempDir('tsbuild-docker-registry-');
    reg = await startRegistry();
    dockerd = await startDockerd(join(tmp.path, 'docker'));
    root = join(tmp.path, 'store');
    const rootfs = makeBusyboxRootfs(join(tmp.path, 'rootfs'));
    expect((await tsbuild(root, 'import', rootfs, '-t', 'bb', '--change', 'CMD ["echo", "hello through the registry"]')).code).to.equal(0);
  });
  after(async () => {
    await dockerd?.stop();
    await reg?.stop();
    tmp.cleanup();
  });

  it('docker pulls and runs what tsbuild pushed, with the digest tsbuild printed', async () => {
    const ref = `${reg.host}/interop/tsbuild-pushed:1`;
    expect((await tsbuild(root, 'tag', 'bb', ref)).code).to.equal(0);
    const pushed = await tsbuild(root, 'push', ref);
    expect(pushed.code, pushed.stderr).to.equal(0);
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(pushed.stdout)![1];
    const pull = await dockerd.docker(['pull', ref]);
    expect(pull.stdout).to.include(`Digest: ${digest}`);
    const ran = await dockerd.docker(['run', '--rm', '--network', 'none', ref]);
    expect(ran.stdout).to.equal('hello through the registry\n');
  });

  it('tsbuild pulls and runs what docker pushed', async () => {
    const ref = `${reg.host}/interop/docker-pushed:1`;
    await dockerd.docker(['tag', `${reg.host}/interop/tsbuild-pushed:1`, ref]);
    const push = await dockerd.docker(['push', ref]);
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(push.stdout)![1];
    const other = join(tmp.path, 'other');
    const pulled = await tsbuild(other, 'pull', ref);
    expect(pulled.code, pulled.stderr).to.equal(0);
    expect(pulled.stdout).to.include(`Digest: ${digest}\n`);
    const ran = await tsbuild(other, 'run', '--rm', ref);
    expect([ran.code, ran.stdout]).to.deep.equal([0, 'hello through the registry\n']);
  });
});
