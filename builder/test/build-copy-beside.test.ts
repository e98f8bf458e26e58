/**
 * Consecutive COPYs build their layers side by side and are rebased onto the
 * COPY below them (FileOp.execEager), but only where that gives the tree a
 * sequential build gives: these cases are built for real on overlayfs, the
 * rebased snapshots counted (their `tsbuild.rebased` label), and the trees
 * checked where a wrong rebase would differ.
 */
import { expect } from 'chai';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY_TAR_DIFF_ID, resolveImage } from '@tsbuild/store';
import { makeBuildEnv, mountsUnder, type BuildEnv } from './build-support.js';

describe('build: consecutive COPYs beside each other', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  let out: string;
  before(async () => (env = await makeBuildEnv('tsbuild-build-beside-')));
  after(() => env?.cleanup());
  beforeEach(() => (out = mkdtempSync(join(tmpdir(), 'tsbuild-beside-out-'))));
  afterEach(() => {
    rmSync(out, { recursive: true, force: true });
    expect(mountsUnder(env.dir), 'leftover mounts').to.deep.equal([]);
  });

  const stages = ['FROM busybox AS a', 'RUN echo a > /a && mkdir /d && echo x > /d/x', 'FROM busybox AS b', 'RUN echo b > /b'];

  async function rebased(): Promise<Set<string>> {
    const snapshotter = await env.store.snapshotter();
    const keys = new Set<string>();
    for await (const s of snapshotter.walk()) if (s.labels?.['tsbuild.rebased']) keys.add(s.key);
    return keys;
  }

  async function buildTree(dockerfile: string[], sub: string): Promise<number> {
    const before = await rebased();
    const ctx = env.context({ Dockerfile: [...stages, ...dockerfile, ''].join('\n'), 'c.txt': 'c' }, sub);
    await env.build({ context: ctx, outputs: [{ type: 'local', dest: out }], sourceDateEpoch: 0 });
    return [...(await rebased())].filter((k) => !before.has(k)).length;
  }

  const text = (p: string) => readFileSync(join(out, p), 'utf8');

  it('COPYs to separate paths are rebased, each onto the one below, and the tree is complete', async () => {
    const n = await buildTree(
      ['FROM busybox', 'COPY --from=a /a /out-a', 'COPY --from=b /b /usr/bin/b', 'COPY c.txt /tmp/', 'COPY --from=a /d/x /out-x', 'RUN cat /out-a /usr/bin/b /tmp/c.txt /out-x > /all'],
      'ctx-separate',
    );
    expect(n).to.equal(3); // all but the first, which builds on its own parent
    expect(text('all')).to.equal('a\nb\ncx\n');
  });

  it('progress shows a rebased COPY from when it began copying: before the slower COPY below it was done', async () => {
    const ctx = env.context(
      { Dockerfile: ['FROM busybox AS slow', 'RUN sleep 1 && echo s > /s', 'FROM busybox AS quick', 'RUN echo q > /q', 'FROM busybox', 'COPY --from=slow /s /s', 'COPY --from=quick /q /q', ''].join('\n') },
      'ctx-progress',
    );
    const { events } = await env.build({ context: ctx });
    const done = (name: string) => events.find((e) => e.type === 'vertex.completed' && e.name.endsWith(name)) as { time: number; durationMs: number } | undefined;
    const below = done('COPY --from=slow /s /s')!;
    const above = done('COPY --from=quick /q /q')!;
    expect(above.time).to.be.at.least(below.time);
    expect(above.time - above.durationMs).to.be.below(below.time - 500); // it copied while the slow stage still ran
  });

  it('a COPY into what the one below writes waits for it: the path is a directory by then', async () => {
    const n = await buildTree(['FROM busybox', 'COPY --from=a /d /app/x', 'COPY --from=b /b /app/x', 'COPY --from=b /b /app/x/again'], 'ctx-overlap');
    expect(n).to.equal(0);
    expect(text('app/x/x')).to.equal('x\n');
    expect(text('app/x/b')).to.equal('b\n');
    expect(text('app/x/again')).to.equal('b\n');
  });

  it('a COPY through a symlink is not rebased over, and one whose parent directory is not there yet waits', async () => {
    const n = await buildTree(
      [
        'FROM busybox',
        'RUN mkdir /app && ln -s /app /lnk',
        'COPY --from=a /d /lnk/x', // writes /app/x through the link
        'COPY --from=b /b /app/x', // so /app/x is a directory here
        'COPY --from=a /a /new/a', // /new does not exist in the base: created here
        'COPY --chown=7:7 --from=b /b /new/b', // must see the /new made above (root-owned), not make its own
      ],
      'ctx-symlink',
    );
    expect(n).to.equal(0);
    expect(readlinkSync(join(out, 'lnk'))).to.equal('/app');
    expect(text('app/x/x')).to.equal('x\n');
    expect(text('app/x/b')).to.equal('b\n');
    expect(lstatSync(join(out, 'new')).uid).to.equal(0);
    expect(lstatSync(join(out, 'new/b')).uid).to.equal(7);
  });

  it('rebased or not, the layers are the same: with a RUN between the COPYs (none rebased) the diff_ids are equal', async () => {
    const diffIds = async (tag: string) => (await resolveImage(env.store.content, (await env.store.images.get(tag)).target)).config.rootfs.diff_ids;
    const copies = ['COPY --from=a /a /a', 'COPY --from=b /b /usr/bin/', 'COPY --from=a /d /d'];
    const before = await rebased();
    await env.build({ context: env.context({ Dockerfile: [...stages, 'FROM busybox', ...copies, ''].join('\n') }, 'ctx-beside'), tags: ['t/beside:1'], sourceDateEpoch: 0 });
    expect([...(await rebased())].filter((k) => !before.has(k))).to.have.length(2);
    // A COPY on a RUN never builds beside it; --no-cache, or the COPYs would hit. `RUN true` adds the empty tar, which changes no tree.
    const apart = [...stages, 'FROM busybox', copies[0]!, 'RUN true', copies[1]!, 'RUN true', copies[2]!, ''].join('\n');
    await env.build({ context: env.context({ Dockerfile: apart }, 'ctx-apart'), tags: ['t/apart:1'], sourceDateEpoch: 0, noCache: true });
    const beside = await diffIds('t/beside:1');
    expect(beside).to.have.length(4);
    expect((await diffIds('t/apart:1')).filter((d) => d !== EMPTY_TAR_DIFF_ID)).to.deep.equal(beside);
  });
});
