/**
 * Issue 5: a fully cached rebuild exports the same image. History times come
 * from the steps' results (recorded when a step ran, returned by a cache hit),
 * metadata steps take a neighbouring layer step's time as BuildKit's exporter
 * does, the image's `created` is the last history time, and SOURCE_DATE_EPOCH
 * still overrides them all.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { ImageConfig } from '@tsbuild/core';
import { resolveImage } from '@tsbuild/store';
import { makeBuildEnv, mountsUnder, type BuildEnv } from './build-support.js';

const DOCKERFILE = [
  'FROM busybox',
  'ENV A=1',
  'RUN echo one > /one',
  'COPY a.txt /a.txt',
  'LABEL x=y',
  'RUN cat /a.txt > /b',
  'CMD ["sh"]',
  '',
].join('\n');

describe('build: reproducible image dates (issue 5)', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  before(async () => {
    env = await makeBuildEnv('tsbuild-build-repro-');
  });
  after(() => env?.cleanup());
  afterEach(() => expect(mountsUnder(env.dir), 'leftover mounts').to.deep.equal([]));

  const configOf = async (tag: string): Promise<ImageConfig> =>
    (await resolveImage(env.store.content, (await env.store.images.get(tag)).target)).config;
  /** The history times of the Dockerfile's own entries (after the base's one), by created_by prefix. */
  const times = (config: ImageConfig): Record<string, string | undefined> =>
    Object.fromEntries(config.history!.slice(1).map((h) => [h.created_by!.split(' ')[0]! + (h.created_by!.includes('/one') ? '1' : h.created_by!.includes('/b') ? '2' : ''), h.created]));

  it('a fully cached rebuild gives the same manifest and config digests', async () => {
    const ctx = env.context({ Dockerfile: DOCKERFILE, 'a.txt': 'v1' }, 'ctx-same');
    const first = await env.build({ context: ctx, tags: ['repro/same:1'] });
    const runs = env.executor.runs;
    const second = await env.build({ context: ctx, tags: ['repro/same:2'] });
    expect(env.executor.runs, 'second build ran containers').to.equal(runs);
    expect(second.digest).to.equal(first.digest);
    expect(second.configDigest).to.equal(first.configDigest);

    const config = await configOf('repro/same:1');
    const t = times(config);
    // Layer steps carry their own times; metadata steps borrow a layer step's, as BuildKit's exporter does.
    for (const k of ['RUN1', 'COPY', 'RUN2']) expect(t[k], k).to.be.a('string');
    expect(t.ENV, 'ENV before the first layer step takes that step\'s time').to.equal(t.RUN1);
    expect(t.LABEL, 'LABEL takes the time of the layer step before it').to.equal(t.COPY);
    expect(t.CMD).to.equal(t.RUN2);
    expect(config.created, 'image created = the last history time').to.equal(t.RUN2);
    expect(config.history![0]!.created, 'the base history keeps its times').to.equal('2024-01-01T00:00:00Z');
  });

  it('changing a step gives a new digest; only the rebuilt steps (and the metadata after them) get new times', async () => {
    const ctx = env.context({ Dockerfile: DOCKERFILE, 'a.txt': 'v1' }, 'ctx-change');
    const before = await env.build({ context: ctx, tags: ['repro/change:1'] });
    writeFileSync(join(ctx, 'a.txt'), 'v2');
    const after = await env.build({ context: ctx, tags: ['repro/change:2'] });
    expect(after.digest).to.not.equal(before.digest);

    const t1 = times(await configOf('repro/change:1'));
    const t2 = times(await configOf('repro/change:2'));
    expect(t2.ENV).to.equal(t1.ENV);
    expect(t2.RUN1, 'the cached RUN keeps its recorded time').to.equal(t1.RUN1);
    for (const k of ['COPY', 'LABEL', 'RUN2', 'CMD']) expect(t2[k], k).to.not.equal(t1[k]);
    expect((await configOf('repro/change:2')).created).to.equal(t2.RUN2);
  });

  it('SOURCE_DATE_EPOCH sets every new history time and the image time', async () => {
    const ctx = env.context({ Dockerfile: DOCKERFILE, 'a.txt': 'v1' }, 'ctx-epoch');
    const a = await env.build({ context: ctx, tags: ['repro/epoch:1'], sourceDateEpoch: 1_700_000_000 });
    const b = await env.build({ context: ctx, tags: ['repro/epoch:2'], sourceDateEpoch: 1_700_000_000 });
    expect(b.digest).to.equal(a.digest);
    const config = await configOf('repro/epoch:1');
    expect(config.created).to.equal('2023-11-14T22:13:20Z');
    expect(Object.values(times(config))).to.deep.equal(Array(6).fill('2023-11-14T22:13:20Z'));
    expect(config.history![0]!.created).to.equal('2024-01-01T00:00:00Z');
  });

  it('a scratch image with metadata only has no time to invent: the same digest every time', async () => {
    const ctx = env.context({ Dockerfile: 'FROM scratch\nENV A=1\n' }, 'ctx-scratch');
    const a = await env.build({ context: ctx });
    const b = await env.build({ context: ctx });
    expect(b.digest).to.equal(a.digest);
  });
});
