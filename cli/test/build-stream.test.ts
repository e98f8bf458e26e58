/** `buildWithEvents`: the build's progress as an async iterator. */
import { expect } from 'chai';
import { join } from 'node:path';
import { buildWithEvents, type BuildEvent } from 'tsbuild';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { tsbuild } from './support.js';

describe('the build API as an async iterator of events', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  before(async () => {
    tmp = tempDir('tsbuild-build-stream-');
    root = join(tmp.path, 'store');
    expect((await tsbuild(root, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'busybox:latest')).code).to.equal(0);
  });
  after(() => tmp.cleanup());

  it('yields every event in order, from the plan to the completion, then resolves the result', async () => {
    const run = buildWithEvents({ root, context: 'examples/Dockerfiles/hello', tags: ['hello:stream'] });
    const events: BuildEvent[] = [];
    for await (const e of run.events) events.push(e);
    const result = await run.result;
    expect(events[0]!.type).to.equal('build.plan');
    expect(events.at(-1)!.type).to.equal('build.completed');
    expect(events.filter((e) => e.type === 'vertex.completed' || e.type === 'vertex.cached').length).to.be.at.least(3);
    expect(result.tags).to.deep.equal(['hello:stream']);
  });

  it('ends the iteration and rejects the result when the build fails', async () => {
    const run = buildWithEvents({ root, context: 'examples/Dockerfiles/hello', dockerfileText: 'FROM busybox\nRUN exit 7\n' });
    const types: string[] = [];
    for await (const e of run.events) types.push(e.type);
    expect(types.at(-1)).to.equal('build.failed');
    let error: unknown;
    await run.result.catch((e) => (error = e));
    expect(String(error)).to.match(/exit code: 7/);
  });
});
