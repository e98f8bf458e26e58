/**
 * `--platform linux/arm64` over a base the store holds only for amd64 (issue 15,
 * point 6). Current BuildKit warns with its InvalidBaseImagePlatform check when
 * a FROM image's OS or architecture differ from the stage's
 * (dockerfile2llb/validations.go validateBaseImagePlatform, the message from
 * linter/ruleset.go); tsbuild gives the same warning and, unlike BuildKit's
 * convert.go finalizeResultImage (which writes the requested platform into the
 * config), labels the result with the platform its layers are
 * (builder/src/api/base-platform.ts).
 */
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { tsbuild } from './support.js';

describe('build --platform over a base image of another platform', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;

  before(async () => {
    tmp = tempDir('tsbuild-base-platform-');
    root = join(tmp.path, 'store');
    expect((await tsbuild(root, 'import', '--platform', 'linux/amd64', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'busybox:latest')).code).to.equal(0);
  });
  after(() => tmp.cleanup());

  it('warns InvalidBaseImagePlatform with BuildKit\'s message and never labels amd64 layers arm64', async () => {
    writeFileSync(join(tmp.path, 'Dockerfile'), 'FROM busybox\nRUN echo hi > /hi\n');
    const r = await tsbuild(root, 'build', '--offline', '--progress', 'plain', '--platform', 'linux/arm64', '-f', join(tmp.path, 'Dockerfile'), '-t', 'out:arm', tmp.path);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include('InvalidBaseImagePlatform');
    expect(r.stderr).to.include('Base image busybox was pulled with platform "linux/amd64", expected "linux/arm64" for current build');
    const inspect = JSON.parse((await tsbuild(root, 'inspect', 'out:arm')).stdout);
    expect(JSON.stringify(inspect)).to.not.include('arm64');
    expect(inspect[0].Platform).to.equal('linux/amd64');
    expect(inspect[0].Descriptor.platform).to.deep.equal({ os: 'linux', architecture: 'amd64' });
  });

  it('gives no warning when the platforms agree', async () => {
    const r = await tsbuild(root, 'build', '--offline', '--progress', 'plain', '--platform', 'linux/amd64', '-f', join(tmp.path, 'Dockerfile'), '-t', 'out:amd', tmp.path);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.not.include('InvalidBaseImagePlatform');
  });
});
