/**
 * Multi-stage builds: COPY --from, independent stages running concurrently,
 * --target pruning, COPY --link rebased without re-copying, and reproducible
 * digests with SOURCE_DATE_EPOCH.
 */
import { expect } from 'chai';
import { makeBuildEnv, mountsUnder, eventsOf, type BuildEnv } from './build-support.js';
import type { BuildEvent } from '../src/index.js';

describe('build: stages', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  before(async () => (env = await makeBuildEnv('tsbuild-build-stages-')));
  after(() => env?.cleanup());
  afterEach(() => expect(mountsUnder(env.dir), 'leftover mounts').to.deep.equal([]));

  it('runs independent stages concurrently and copies their results with COPY --from', async () => {
    const ctx = env.context(
      {
        Dockerfile: [
          'FROM busybox AS a',
          'RUN sleep 1 && echo a > /a',
          'FROM busybox AS b',
          'RUN sleep 1 && echo b > /b',
          'FROM busybox',
          'COPY --from=a /a /a',
          'COPY --from=b /b /out/',
          'COPY --from=busybox:latest /etc/group /group',
          'RUN [ "$(cat /a)" = a ] && [ "$(cat /out/b)" = b ] && cmp /group /etc/group',
          '',
        ].join('\n'),
      },
      'ctx-concurrent',
    );
    const res = await env.build({ context: ctx });
    const idx = (type: BuildEvent['type'], name: string) => res.events.findIndex((e) => e.type === type && 'name' in e && e.name === name);
    const ra = '[a 2/2] RUN sleep 1 && echo a > /a';
    const rb = '[b 2/2] RUN sleep 1 && echo b > /b';
    expect(idx('vertex.started', ra)).to.be.greaterThan(-1);
    expect(idx('vertex.started', ra)).to.be.lessThan(idx('vertex.completed', rb));
    expect(idx('vertex.started', rb)).to.be.lessThan(idx('vertex.completed', ra));
    const plan = eventsOf(res.events, 'build.plan')[0]!;
    expect(plan.vertices.map((v) => v.name)).to.include.members([ra, rb, '[stage-2 2/5] COPY --from=a /a /a']);
  });

  it('--target builds only what the target reaches', async () => {
    const ctx = env.context(
      {
        Dockerfile: [
          'FROM busybox AS broken',
          'RUN exit 1',
          'FROM busybox AS base',
          'RUN echo base > /base',
          'FROM base AS app',
          'RUN [ "$(cat /base)" = base ] && echo app > /app',
          'FROM broken',
          '',
        ].join('\n'),
      },
      'ctx-target',
    );
    const res = await env.build({ context: ctx, target: 'app', tags: ['t/target:1'] });
    const names = eventsOf(res.events, 'build.plan')[0]!.vertices.map((v) => v.name);
    expect(names.some((n) => n.includes('broken'))).to.equal(false);
    expect(names).to.include('[app 2/2] RUN [ "$(cat /base)" = base ] && echo app > /app');
    expect(eventsOf(res.events, 'vertex.failed')).to.deep.equal([]);
  });

  it('COPY --link copies onto an empty tree (a destination symlink is replaced), but not with --chmod (BuildKit dispatchCopy: link && chmod == "")', async () => {
    const ctx = env.context(
      {
        Dockerfile: [
          'FROM busybox',
          'RUN echo old > /t1 && ln -s /t1 /l1 && echo old > /t2 && ln -s /t2 /l2',
          'COPY --link f.txt /l1',
          'COPY --link --chmod=0640 f.txt /l2',
          'RUN [ ! -L /l1 ] && [ "$(cat /l1)" = new ] && [ "$(cat /t1)" = old ] \\',
          ' && [ -L /l2 ] && [ "$(cat /t2)" = new ] && [ "$(stat -c %a /t2)" = 640 ]',
          '',
        ].join('\n'),
        'f.txt': 'new\n',
      },
      'ctx-link-chmod',
    );
    const res = await env.build({ context: ctx });
    const names = eventsOf(res.events, 'vertex.started').map((e) => e.name);
    expect(names.some((n) => n.includes('COPY --link f.txt /l1') && n.endsWith('(link)'))).to.equal(true);
    expect(names.some((n) => n.includes('COPY --link --chmod=0640') && n.endsWith('(link)'))).to.equal(false);
  });

  it('COPY --link is stacked on a changed parent without copying again', async () => {
    const ctx = env.context(
      {
        Dockerfile: ['FROM busybox', 'ARG P=1', 'RUN echo $P > /p', 'COPY --link app.txt /app/app.txt', 'RUN [ "$(cat /app/app.txt)" = hi ]', ''].join('\n'),
        'app.txt': 'hi',
      },
      'ctx-link',
    );
    await env.build({ context: ctx });
    const res = await env.build({ context: ctx, buildArgs: { P: '2' } });
    const started = eventsOf(res.events, 'vertex.started').map((e) => e.name);
    expect(started).to.include('[2/4] RUN echo $P > /p');
    expect(started).to.include('[3/4] COPY --link app.txt /app/app.txt');
    expect(started.filter((n) => n.endsWith('(link)'))).to.deep.equal([]);
    expect(started).to.include('[4/4] RUN [ "$(cat /app/app.txt)" = hi ]');
  });

  it('gives the same image digest for the same inputs with sourceDateEpoch', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox\nCOPY f /f\nRUN echo x > /x && mkdir -p /d && touch /d/new\n', f: 'data' }, 'ctx-repro');
    const a = await env.build({ context: ctx, sourceDateEpoch: 1_700_000_000 });
    const b = await env.build({ context: ctx, sourceDateEpoch: 1_700_000_000, noCache: true });
    expect(eventsOf(b.events, 'vertex.started')).to.not.deep.equal([]);
    expect(b.digest).to.equal(a.digest);
  });

  it('two concurrent builds of the same steps on one store both succeed and agree', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox\nCOPY f /f\nRUN echo same > /same\n', f: 'f' }, 'ctx-twice');
    const [a, b] = await Promise.all([
      env.build({ context: ctx, sourceDateEpoch: 1_600_000_000 }),
      env.build({ context: ctx, sourceDateEpoch: 1_600_000_000 }),
    ]);
    expect(a.digest).to.equal(b.digest);
    expect((await env.store.fsck()).problems).to.deep.equal([]);
  });
});
