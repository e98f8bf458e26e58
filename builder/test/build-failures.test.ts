/**
 * Failure paths: a failing RUN names its line and exit code, a missing base
 * image names the FROM, an insecure RUN needs the entitlement, and a
 * canceled build kills the container and leaves no mount, no active
 * snapshot and a store that passes fsck.
 */
import { expect } from 'chai';
import { DockerfileError, isCanceled } from '@tsbuild/core';
import { makeBuildEnv, mountsUnder, type BuildEnv } from './build-support.js';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('build: failures and cancellation', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  before(async () => (env = await makeBuildEnv('tsbuild-build-fail-')));
  after(() => env?.cleanup());
  afterEach(async () => {
    expect(mountsUnder(env.dir), 'leftover mounts').to.deep.equal([]);
    const snapshotter = await env.store.snapshotter();
    const active: string[] = [];
    for await (const s of snapshotter.walk()) if (s.kind !== 'committed') active.push(s.key);
    expect(active, 'leftover active snapshots').to.deep.equal([]);
    expect((await env.store.fsck()).problems).to.deep.equal([]);
    expect(await env.store.leases.list(), 'leftover leases').to.deep.equal([]);
  });

  it('a failing RUN rejects with a DockerfileError at its line naming the exit code', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox\nRUN echo fine > /fine\nRUN echo failing && exit 3\nRUN echo never\n' }, 'ctx-fail');
    const before = env.executor.runs;
    const err = await rejection(env.build({ context: ctx }));
    expect(err).to.be.instanceOf(DockerfileError);
    const e = err as DockerfileError;
    expect(e.range?.start.line).to.equal(3);
    expect(e.message).to.contain('[3/4] RUN echo failing && exit 3');
    expect(e.message).to.contain('did not complete successfully: exit code: 3');
    expect(env.executor.runs - before).to.equal(2);
  });

  it('a base image missing from the store is a DockerfileError at the FROM', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox AS ok\nFROM nothere:1.0\nRUN true\n' }, 'ctx-missing');
    const err = (await rejection(env.build({ context: ctx }))) as DockerfileError;
    expect(err).to.be.instanceOf(DockerfileError);
    expect(err.code).to.equal('BUILD_BASE_IMAGE_NOT_FOUND');
    expect(err.range?.start.line).to.equal(2);
    expect(err.message).to.equal('image "nothere:1.0" not found in the store and this build has no registry access (tsbuild pull, import or load it)');
  });

  it('a COPY source missing from the context is a DockerfileError at the COPY', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox\nCOPY nothere.txt /x\n' }, 'ctx-copy-missing');
    const err = (await rejection(env.build({ context: ctx }))) as DockerfileError;
    expect(err).to.be.instanceOf(DockerfileError);
    expect(err.range?.start.line).to.equal(2);
    expect(err.message).to.contain('nothere.txt');
  });

  it('a RUN under a USER with no passwd entry is a DockerfileError at the RUN, with BuildKit\'s message', async () => {
    // executor/oci/user.go, GetUser → moby/sys/user GetExecUser: "unable to find user %s: no matching entries in passwd file".
    // A numeric uid without an entry is allowed (the home-user differential case).
    const ctx = env.context({ Dockerfile: 'FROM busybox\nUSER ghost\nRUN true\n' }, 'ctx-user-missing');
    const err = (await rejection(env.build({ context: ctx }))) as DockerfileError;
    expect(err).to.be.instanceOf(DockerfileError);
    expect(err.code).to.equal('RUNTIME_UNKNOWN_USER');
    expect(err.range?.start.line).to.equal(3);
    expect(err.message).to.contain('unable to find user ghost: no matching entries in passwd file');
  });

  it('RUN --security=insecure needs allowInsecure', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox\nRUN --security=insecure true\n' }, 'ctx-insecure');
    const err = (await rejection(env.build({ context: ctx }))) as DockerfileError;
    expect(err.code).to.equal('BUILD_ENTITLEMENT_DENIED');
    expect(err.range?.start.line).to.equal(2);
    await env.build({ context: ctx, allowInsecure: true });
  });

  it('an abort during a RUN kills it and rejects with CanceledError, leaving the store clean', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox\nRUN echo started && sleep 60\n' }, 'ctx-cancel');
    const controller = new AbortController();
    const err = await rejection(
      env.build({ context: ctx, signal: controller.signal, onEvent: (e) => e.type === 'vertex.log' && e.data.includes('started') && controller.abort() }),
    );
    expect(isCanceled(err), String(err)).to.equal(true);
  });
});
