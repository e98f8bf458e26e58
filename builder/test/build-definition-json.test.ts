/**
 * Issue 12: a build's definition is data that can travel. The definition of
 * a real build, written to JSON and read back (JSON.stringify → JSON.parse →
 * checkDefinition), is resolved by the worker and built in another store: it
 * makes the same image as the direct build (SOURCE_DATE_EPOCH makes digests
 * deterministic). Built again from JSON in the first store, every step hits
 * the cache: the trip changes no cache key.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { build } from '../src/api/build.js';
import type { BuildOptions } from '../src/index.js';
import { eventsOf, makeBuildEnv, mountsUnder, type BuildEnv } from './build-support.js';

/** Every op a build of a context can make: image source, local context, exec with mounts, file ops, merge. */
const DOCKERFILE = [
  '# syntax=docker/dockerfile:1',
  'FROM busybox AS tools',
  'ARG GREETING=hello',
  'RUN echo "$GREETING" > /greeting',
  'RUN --mount=type=bind,source=a.txt,target=/mnt/a.txt --mount=type=secret,id=s,required cp /mnt/a.txt /a && [ "$(wc -c < /run/secrets/s)" -eq 14 ]',
  'FROM scratch AS files',
  'COPY <<EOF /note',
  'a note',
  'EOF',
  'FROM busybox',
  'WORKDIR /app',
  'COPY a.txt dir/ ./',
  'COPY --link --from=tools /greeting /greeting',
  'COPY --from=files /note /note',
  'COPY --from=extra / /extra/',
  'RUN --mount=type=bind,from=tools,source=/a,target=/t/a cat /t/a /greeting /note /extra/e.txt > /all && ls -l /app > /app.list',
  'CMD ["cat", "/all"]',
  '',
].join('\n');

describe('build: a definition through JSON (issue 12)', function () {
  this.timeout(180_000);
  let first: BuildEnv;
  let second: BuildEnv;
  before(async () => {
    first = await makeBuildEnv('tsbuild-defjson-a-');
    second = await makeBuildEnv('tsbuild-defjson-b-');
  });
  after(() => {
    first?.cleanup();
    second?.cleanup();
  });
  afterEach(() => {
    expect(mountsUnder(first.dir), 'leftover mounts').to.deep.equal([]);
    expect(mountsUnder(second.dir), 'leftover mounts').to.deep.equal([]);
  });

  it('builds the same image from the JSON of its definition, in another store and (all cached) in the same one', async () => {
    const files = { Dockerfile: DOCKERFILE, 'a.txt': 'a\n', 'dir/b.txt': 'b\n', 'secret.txt': 'open-sesame-42' };
    const options = (env: BuildEnv): BuildOptions => {
      const ctx = env.context(files, 'ctx');
      env.context({ 'e.txt': 'extra\n' }, 'extra');
      return { context: ctx, buildContexts: { extra: join(env.dir, 'extra') }, secrets: [{ id: 's', src: join(ctx, 'secret.txt') }], sourceDateEpoch: 1_700_000_000, contextWatch: false };
    };
    const direct = await first.build(options(first));

    const texts: string[] = [];
    const viaJson = (d: unknown): unknown => {
      const text = JSON.stringify(d);
      texts.push(text);
      return JSON.parse(text);
    };
    const runsBefore = second.executor.runs;
    const events: string[] = [];
    const elsewhere = await build({ ...options(second), onEvent: (e) => events.push(e.type) }, { store: second.store, executor: second.executor }, { definition: viaJson });
    expect(texts, 'the definition went through JSON').to.have.length(1);
    expect(texts[0]).to.contain('"op":"exec"').and.contain('"op":"merge"').and.contain('"op":"local"').and.not.contain('open-sesame-42');
    expect(second.executor.runs - runsBefore, 'the second store ran every RUN').to.equal(3);
    expect(events).to.include('vertex.completed');
    expect(elsewhere.digest, 'same image from the JSON definition').to.equal(direct.digest);
    expect(elsewhere.configDigest).to.equal(direct.configDigest);

    const runs = first.executor.runs;
    const again = await first.build({ ...options(first), tags: [] });
    expect(again.digest).to.equal(direct.digest);
    const cachedDirect = eventsOf(again.events, 'vertex.cached').length;
    const fromJson: { type: string }[] = [];
    const rebuilt = await build({ ...options(first), onEvent: (e) => fromJson.push(e) }, { store: first.store, executor: first.executor }, { definition: viaJson });
    expect(first.executor.runs, 'nothing ran: every key is what it was').to.equal(runs);
    expect(fromJson.filter((e) => e.type === 'vertex.started'), 'no vertex ran').to.deep.equal([]);
    expect(fromJson.filter((e) => e.type === 'vertex.cached').length).to.equal(cachedDirect);
    expect(rebuilt.digest).to.equal(direct.digest);
  });
});
