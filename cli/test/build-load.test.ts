/**
 * `tsbuild build --load` against a private dockerd (test/support/dockerd.ts):
 * the image streamed into the daemon's image load shows in `docker images`,
 * runs with `docker run` and has tsbuild's image ID; an untagged load keeps
 * its ID only; with no daemon at DOCKER_HOST the build stops at one line
 * naming the socket.
 */
import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDockerd, type Dockerd } from '../../test/support/dockerd.js';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { tsbuild, type CliResult } from './support.js';

describe('tsbuild build --load', function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let dockerd: Dockerd;
  let root: string;
  let context: string;

  /** The CLI runs in-process: DOCKER_HOST is set for the one call. */
  const withDockerHost = async (host: string, ...argv: string[]): Promise<CliResult> => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = host;
    try {
      return await tsbuild(root, ...argv);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  };

  before(async () => {
    tmp = tempDir('tsbuild-load-');
    dockerd = await startDockerd(join(tmp.path, 'docker'));
    root = join(tmp.path, 'store');
    expect((await tsbuild(root, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'busybox:latest')).code).to.equal(0);
    context = join(tmp.path, 'ctx');
    mkdirSync(context);
    writeFileSync(join(context, 'Dockerfile'), 'FROM busybox\nRUN echo built by tsbuild > /built\nCMD ["cat", "/built"]\n');
  });
  after(async () => {
    await dockerd?.stop();
    tmp?.cleanup();
  });

  it('loads the tagged image into the daemon: docker images lists it and docker run runs it', async () => {
    const iidfile = join(tmp.path, 'iid');
    const r = await withDockerHost(dockerd.host, 'build', '--load', '-t', 'loaded:1', '--iidfile', iidfile, '--progress', 'plain', context);
    expect(r.code, r.stderr).to.equal(0);
    const images = (await dockerd.docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).stdout;
    expect(images).to.match(/^loaded:1 /m);
    const dockerId = (await dockerd.docker(['image', 'inspect', '-f', '{{.Id}}', 'loaded:1'])).stdout.trim();
    expect(dockerId).to.equal(readFileSync(iidfile, 'utf8').trim());
    expect((await dockerd.docker(['run', '--rm', '--network', 'none', 'loaded:1'])).stdout).to.equal('built by tsbuild\n');
    // Without -o the image is named in tsbuild's store too.
    expect((await tsbuild(root, 'inspect', 'loaded:1')).code).to.equal(0);
  });

  it('loads an untagged build (-o type=docker without dest) by its ID, with no temporary name', async () => {
    writeFileSync(join(context, 'Dockerfile'), 'FROM busybox\nRUN echo untagged > /built\nCMD ["cat", "/built"]\n');
    const iidfile = join(tmp.path, 'iid2');
    const r = await withDockerHost(dockerd.host, 'build', '-o', 'type=docker', '--iidfile', iidfile, '-q', context);
    expect(r.code, r.stderr).to.equal(0);
    const id = readFileSync(iidfile, 'utf8').trim();
    expect((await dockerd.docker(['run', '--rm', '--network', 'none', id])).stdout).to.equal('untagged\n');
    expect((await dockerd.docker(['images', '--format', '{{.Repository}}'])).stdout).not.to.contain('tsbuild-export');
  });

  it('stops before building, with one line naming the socket, when no daemon answers', async () => {
    const socket = join(tmp.path, 'no-daemon.sock');
    const r = await withDockerHost(`unix://${socket}`, 'build', '--load', '-t', 'never:1', '--progress', 'plain', context);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(`error: --load: no docker daemon answers at ${socket} (ENOENT)\n`);
    expect((await tsbuild(root, 'inspect', 'never:1')).code).not.to.equal(0);
  });

  it('refuses a DOCKER_HOST that is not a unix socket', async () => {
    const r = await withDockerHost('tcp://127.0.0.1:2375', 'build', '--load', context);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal('error: --load: DOCKER_HOST=tcp://127.0.0.1:2375: only a unix:// socket is supported\n');
  });
});
