/**
 * The programmatic API as the README shows it: `import { build } from 'tsbuild'`.
 * The code inside `example` is what the README quotes.
 */
import { expect } from 'chai';
import { isCanceled } from '@tsbuild/core';
import { join } from 'node:path';
import { build, type BuildEvent } from 'tsbuild';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { tsbuild } from './support.js';

describe('the build API: import { build } from "tsbuild"', function () {
  this.timeout(300_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;

  before(async () => {
    tmp = tempDir('tsbuild-build-api-');
    root = join(tmp.path, 'store');
    expect((await tsbuild(root, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'busybox:latest')).code).to.equal(0);
  });
  after(() => tmp.cleanup());

  it('builds examples/Dockerfiles/hello and reports progress as events', async () => {
    // --- example (README) ---
    const steps: string[] = [];
    const result = await build({
      root, // the store; default $TSBUILD_ROOT or ~/.local/share/tsbuild
      context: 'examples/Dockerfiles/hello',
      tags: ['hello:api'],
      buildArgs: { GREETING: 'hi' },
      onEvent: (e: BuildEvent) => {
        if (e.type === 'vertex.completed' || e.type === 'vertex.cached') steps.push(`${e.type === 'vertex.cached' ? 'CACHED ' : ''}${e.name}`);
      },
    });
    // result.digest: 'sha256:…' (the manifest), result.configDigest: the image ID, result.tags: ['hello:api']
    // --- end of example ---
    expect(result.digest).to.match(/^sha256:[a-f0-9]{64}$/);
    expect(result.configDigest).to.match(/^sha256:[a-f0-9]{64}$/);
    expect(result.tags).to.deep.equal(['hello:api']);
    expect(steps.some((s) => s.includes('RUN chmod +x greet.sh'))).to.equal(true);
    const inspect = JSON.parse((await tsbuild(root, 'inspect', 'hello:api')).stdout);
    expect(inspect[0].Digest).to.equal(result.digest);
  });

  it('rejects as canceled when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    let error: unknown;
    await build({ root, context: 'examples/Dockerfiles/hello', signal: controller.signal }).catch((e) => (error = e));
    expect(isCanceled(error) || (error as Error)?.message === 'stop', String(error)).to.equal(true);
  });
});
