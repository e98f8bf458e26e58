/**
 * The build cache end to end: what must hit (a rebuild, a touched file, an
 * unselected file, a moved checkout) and what must miss (a selected file, a
 * build arg the RUN sees), with the miss explained in words. Containers run
 * are counted on the real executor.
 */
import { cpSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { openBuildCache } from '@tsbuild/builder';
import { makeBuildEnv, mountsUnder, eventsOf, type BuildEnv } from './build-support.js';

const DOCKERFILE = [
  'FROM busybox',
  'RUN echo base > /base',
  'COPY app.txt /app/',
  'ARG VERSION=1',
  'RUN echo "$VERSION" > /version && cp /app/app.txt /copy && [ "$(cat /copy)" = "$(cat /app/app.txt)" ]',
  '',
].join('\n');

describe('build: cache', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  let ctx: string;
  before(async () => {
    env = await makeBuildEnv('tsbuild-build-cache-');
    ctx = env.context({ Dockerfile: DOCKERFILE, 'app.txt': 'v1', 'README.md': 'not copied' });
  });
  after(() => env?.cleanup());
  afterEach(() => expect(mountsUnder(env.dir), 'leftover mounts').to.deep.equal([]));

  const runBuild = async (options: { context?: string; buildArgs?: Record<string, string> } = {}) => {
    const before = env.executor.runs;
    const res = await env.build({ context: options.context ?? ctx, ...(options.buildArgs ? { buildArgs: options.buildArgs } : {}) });
    return { ...res, runs: env.executor.runs - before };
  };

  it('runs every step the first time and explains it as a first build', async () => {
    const res = await runBuild();
    expect(res.runs).to.equal(2);
    const explain = eventsOf(res.events, 'vertex.explain');
    expect(explain.map((e) => e.text)).to.deep.include(['no previous build of this step']);
  });

  it('a second build is fully cached: no container runs, no vertex starts', async () => {
    await runBuild();
    const res = await runBuild();
    expect(res.runs).to.equal(0);
    expect(eventsOf(res.events, 'vertex.started')).to.deep.equal([]);
    expect(eventsOf(res.events, 'vertex.cached')).to.not.deep.equal([]);
  });

  it('touching a context file, or editing a file no COPY selects, keeps everything cached', async () => {
    await runBuild();
    utimesSync(join(ctx, 'app.txt'), new Date(), new Date(Date.now() + 5000));
    writeFileSync(join(ctx, 'README.md'), 'changed but never copied');
    const res = await runBuild();
    expect(res.runs).to.equal(0);
    expect(eventsOf(res.events, 'vertex.started')).to.deep.equal([]);
  });

  it('the same context in another directory hits the cache', async () => {
    const moved = join(env.dir, 'ctx-moved');
    cpSync(ctx, moved, { recursive: true });
    const res = await runBuild({ context: moved });
    expect(res.runs).to.equal(0);
  });

  it('editing a selected file rebuilds that COPY and its dependents, and the miss names the file', async () => {
    writeFileSync(join(ctx, 'app.txt'), 'v2');
    const res = await runBuild();
    expect(res.runs).to.equal(1); // the first RUN stays cached, the last one re-runs
    const started = eventsOf(res.events, 'vertex.started').map((e) => e.name);
    expect(started).to.deep.equal(['[3/4] COPY app.txt /app/', '[4/4] RUN echo "$VERSION" > /version && cp /app/app.txt /copy && [ "$(cat /copy)" = "$(cat /app/app.txt)" ]']);
    const explain = eventsOf(res.events, 'vertex.explain');
    expect(explain.find((e) => e.name.includes('COPY'))!.text).to.deep.equal(['file "app.txt" changed']);
    expect(explain.find((e) => e.name.includes('RUN'))!.text).to.deep.equal(['parent step "[3/4] COPY app.txt /app/" changed']);
  });

  it('a changed build arg re-runs only the RUN that sees it, explained', async () => {
    const res = await runBuild({ buildArgs: { VERSION: '2' } });
    expect(res.runs).to.equal(1);
    const explain = eventsOf(res.events, 'vertex.explain');
    expect(explain).to.have.length(1);
    expect(explain[0]!.text).to.deep.equal(['build arg VERSION changed: "1" → "2"']);
    expect(explain[0]!.name).to.match(/^\[4\/4\] RUN/);
  });

  it('a prune keeps what cache records name: the next build is still fully cached and exports', async () => {
    await runBuild();
    await env.store.prune({ graceMs: 0, roots: [openBuildCache(env.store.root)] });
    const out = join(env.dir, 'out-after-prune');
    const before = env.executor.runs;
    const res = await env.build({ context: ctx, outputs: [{ type: 'local', dest: out }] });
    expect(env.executor.runs - before).to.equal(0);
    expect(eventsOf(res.events, 'vertex.started')).to.deep.equal([]);
    expect(readFileSync(join(out, 'copy'), 'utf8')).to.equal('v2');
    expect((await env.store.fsck()).problems).to.deep.equal([]);
  });

  it('an edited RUN is explained as an instruction change', async () => {
    writeFileSync(join(ctx, 'Dockerfile'), DOCKERFILE.replace('RUN echo base > /base', 'RUN echo base2 > /base'));
    const res = await runBuild();
    expect(res.runs).to.equal(2);
    const explain = eventsOf(res.events, 'vertex.explain');
    expect(explain[0]!.text).to.deep.equal(['instruction changed: RUN echo base > /base → RUN echo base2 > /base']);
  });
});

describe('build: cache of a COPY of many files', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  let ctx: string;
  before(async () => {
    env = await makeBuildEnv('tsbuild-build-cache-many-');
    const files: Record<string, string> = { Dockerfile: 'FROM busybox\nCOPY files /files\n' };
    for (let d = 0; d < 3; d++) for (let f = 0; f < 100; f++) files[`files/d${d}/f${f}`] = `${d}/${f}`;
    ctx = env.context(files);
  });
  after(() => env?.cleanup());

  it('hits without reading the 300-file content map, and a miss still names the one file edited', async () => {
    await env.build({ context: ctx });
    const contentDir = join(env.dir, 'store', 'cache', 'content');
    expect(readdirSync(contentDir), 'the map is kept beside the records, once').to.have.length(1);
    const again = await env.build({ context: ctx });
    expect(eventsOf(again.events, 'vertex.started')).to.deep.equal([]);
    writeFileSync(join(ctx, 'files/d1/f7'), 'edited');
    const res = await env.build({ context: ctx });
    const explain = eventsOf(res.events, 'vertex.explain');
    expect(explain.find((e) => e.name.includes('COPY'))!.text).to.deep.equal(['file "files/d1/f7" changed']);
  });
});

describe('build: cache of COPY --parents with an include pattern', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  let ctx: string;
  before(async () => {
    env = await makeBuildEnv('tsbuild-build-cache-parents-');
    ctx = env.context({
      Dockerfile: 'FROM busybox\nCOPY --parents ./src/**/*.txt /parents/\nRUN cat /parents/src/x/y/c.txt > /seen\n',
      'src/a.txt': 'a', 'src/x/y/c.txt': 'c1', 'src/x/y/other.md': 'not selected',
    });
  });
  after(() => env?.cleanup());

  it('the key covers what `**` selects at any depth (an edit three levels down misses), not what it leaves out', async () => {
    const out = join(env.dir, 'out-parents');
    await env.build({ context: ctx, outputs: [{ type: 'local', dest: out }] });
    expect(readFileSync(join(out, 'parents/src/a.txt'), 'utf8')).to.equal('a');
    expect(readFileSync(join(out, 'seen'), 'utf8')).to.equal('c1');
    writeFileSync(join(ctx, 'src/x/y/other.md'), 'edited, still not selected');
    const hit = await env.build({ context: ctx });
    expect(eventsOf(hit.events, 'vertex.started')).to.deep.equal([]);
    writeFileSync(join(ctx, 'src/x/y/c.txt'), 'c2');
    const miss = await env.build({ context: ctx });
    const explain = eventsOf(miss.events, 'vertex.explain');
    expect(explain.find((e) => e.name.includes('COPY'))!.text).to.deep.equal(['file "src/x/y/c.txt" changed']);
  });
});
