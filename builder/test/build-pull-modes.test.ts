/**
 * The builder's side of pulling base images (api/base-images.ts), with an
 * ImagePuller that tags the store's busybox under the name asked for (the
 * registry itself is cli/test/build-pull.test.ts's): one pull per image however
 * many instructions name it and however it is spelled, none when the store has
 * it (unless it is recorded for another platform), one more under `always`,
 * none under `never`, and a puller's failure as a
 * DockerfileError at the instruction with the puller's code.
 */
import { expect } from 'chai';
import { DockerfileError, NotFoundError, type Descriptor } from '@tsbuild/core';
import { defineBuild, type ImagePuller, type PullMode } from '../src/index.js';
import { makeBuildEnv, type BuildEnv } from './build-support.js';

describe('build: base images pulled through the injected puller', function () {
  this.timeout(60_000);
  let env: BuildEnv;
  before(async () => { env = await makeBuildEnv('tsbuild-pull-modes-'); });
  after(() => env.cleanup());

  const puller = (fail?: Error): ImagePuller & { calls: string[] } => {
    const calls: string[] = [];
    return {
      calls,
      async pull(ref): Promise<Descriptor> {
        calls.push(ref);
        await new Promise((r) => setTimeout(r, 20)); // long enough for a second caller to arrive
        if (fail) throw fail;
        const { target } = await env.store.images.get('busybox:latest');
        await env.store.images.put(ref, target);
        return target;
      },
    };
  };
  const define = (dockerfile: string, p: ImagePuller, pull?: PullMode) =>
    defineBuild({ context: env.context({ Dockerfile: dockerfile }, 'ctx-pull'), ...(pull ? { pull } : {}) }, env.store, p);

  it('pulls an image named by FROM, FROM and COPY --from (spelled two ways) once, then not again', async () => {
    const p = puller();
    const text = 'FROM pulled.invalid/x AS a\nFROM pulled.invalid/x:latest\nCOPY --from=pulled.invalid/x /bin/sh /sh\n';
    await define(text, p);
    expect(p.calls).to.deep.equal(['pulled.invalid/x:latest']);
    await define(text, p);
    expect(p.calls).to.have.length(1);
    await define(text, p, 'always');
    expect(p.calls).to.have.length(2);
    await define(text, p, 'never');
    expect(p.calls).to.have.length(2);
  });

  it('a manifest the store records for another platform is pulled for the build\'s, unless pulling is off', async () => {
    const { target } = await env.store.images.get('busybox:latest');
    await env.store.images.put('plat.invalid/p:1', { ...target, platform: { os: 'linux', architecture: 'riscv64' } });
    const p = puller();
    await define('FROM plat.invalid/p:1\n', p, 'never');
    expect(p.calls).to.deep.equal([]);
    await define('FROM plat.invalid/p:1\n', p);
    expect(p.calls).to.deep.equal(['plat.invalid/p:1']);
  });

  it('never: a missing image is BUILD_BASE_IMAGE_NOT_FOUND at its FROM, and nothing is pulled', async () => {
    const p = puller();
    const err = await define('FROM busybox\nFROM offline.invalid/y:1\n', p, 'never').then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(DockerfileError);
    expect((err as DockerfileError).code).to.equal('BUILD_BASE_IMAGE_NOT_FOUND');
    expect((err as DockerfileError).range?.start.line).to.equal(2);
    expect((err as DockerfileError).message).to.equal('image "offline.invalid/y:1" not found in the store and --offline allows no pull');
    expect(p.calls).to.deep.equal([]);
  });

  it('a failed pull is a DockerfileError at the instruction, with the puller\'s message and code', async () => {
    const p = puller(new NotFoundError('registry r.invalid, repository z: GET manifest 2: 404 MANIFEST_UNKNOWN: manifest unknown', { code: 'REGISTRY_MANIFEST_UNKNOWN' }));
    const err = await define('FROM busybox\nRUN --mount=from=r.invalid/z:2,target=/m true\n', p).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(DockerfileError);
    expect((err as DockerfileError).code).to.equal('REGISTRY_MANIFEST_UNKNOWN');
    expect((err as DockerfileError).range?.start.line).to.equal(2);
    expect((err as DockerfileError).message).to.equal('failed to resolve source metadata for r.invalid/z:2: registry r.invalid, repository z: GET manifest 2: 404 MANIFEST_UNKNOWN: manifest unknown');
  });
});
