/**
 * Issue 2's proof with a real Docker engine (Debian's docker.io, a private
 * dockerd with no iptables and no bridge): an image made by `tsbuild import`
 * from busybox-static, saved in docker format, loads into dockerd and runs.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { tsbuild } from '../cli/test/support.js';
import { startDockerd, type Dockerd } from './support/dockerd.js';
import { makeBusyboxRootfs, tempDir } from './support/fixtures.js';

describe('docker interop: tsbuild save → docker load → docker run', function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let dockerd: Dockerd;

  before(async () => {
    tmp = tempDir('tsbuild-docker-');
    dockerd = await startDockerd(join(tmp.path, 'docker'));
  });
  after(async () => {
    await dockerd?.stop();
    tmp.cleanup();
  });

  it('runs a busybox image imported by tsbuild', async () => {
    const root = join(tmp.path, 'store');
    const rootfs = makeBusyboxRootfs(join(tmp.path, 'rootfs'));
    const imp = await tsbuild(root, 'import', rootfs, '-t', 'tsbuild-busybox:1', '--change', 'CMD ["echo", "hello from busybox"]');
    expect(imp.code, imp.stderr).to.equal(0);
    const archive = join(tmp.path, 'bb.tar');
    const save = await tsbuild(root, 'save', '--format', 'docker', '-o', archive, 'tsbuild-busybox:1');
    expect(save.code, save.stderr).to.equal(0);

    const load = await dockerd.docker(['load', '-i', archive]);
    expect(load.stdout).to.match(/Loaded image: tsbuild-busybox:1/);
    const id = JSON.parse((await tsbuild(root, 'inspect', 'tsbuild-busybox:1')).stdout)[0].Id as string;
    const dockerId = (await dockerd.docker(['image', 'inspect', '-f', '{{.Id}}', 'tsbuild-busybox:1'])).stdout.trim();
    expect(dockerId).to.equal(id); // the same config digest: docker's image ID

    const ran = await dockerd.docker(['run', '--rm', '--network', 'none', 'tsbuild-busybox:1']);
    expect(ran.stdout).to.equal('hello from busybox\n');
    const sh = await dockerd.docker(['run', '--rm', '--network', 'none', 'tsbuild-busybox:1', 'sh', '-c', 'busybox | head -1']);
    expect(sh.stdout).to.match(/^BusyBox v/);
  });

  it('exports an OCI archive that skopeo inspects', async () => {
    const root = join(tmp.path, 'store');
    const archive = join(tmp.path, 'bb.oci.tar');
    expect((await tsbuild(root, 'save', '--format', 'oci', '-o', archive, 'tsbuild-busybox:1')).code).to.equal(0);
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { stdout } = await promisify(execFile)('skopeo', ['inspect', `oci-archive:${archive}:tsbuild-busybox:1`]);
    const info = JSON.parse(stdout) as { Architecture: string; Os: string; Layers: string[] };
    expect(info.Os).to.equal('linux');
    expect(info.Layers).to.have.length(1);
  });
});
