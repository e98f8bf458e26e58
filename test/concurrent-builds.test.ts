/**
 * Several processes share one store: 4 `tsbuild build` processes with
 * different Dockerfiles (and a common base and first step, so they race on the
 * same snapshots, blobs and cache records) run at once, twice; every build
 * succeeds, every image runs, and fsck finds the store clean.
 */
import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tsbuild } from '../cli/test/support.js';
import { collect, spawnTsbuild } from '../cli/test/run-support.js';
import { makeBusyboxRootfs, tempDir } from './support/fixtures.js';

describe('concurrent builds: 4 processes, one store', function () {
  this.timeout(240_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  const contexts: string[] = [];

  before(async () => {
    tmp = tempDir('tsbuild-conc-');
    root = join(tmp.path, 'store');
    const rootfs = makeBusyboxRootfs(join(tmp.path, 'rootfs'));
    expect((await tsbuild(root, 'import', rootfs, '-t', 'busybox')).code).to.equal(0);
    for (let i = 0; i < 4; i++) {
      const ctx = join(tmp.path, `ctx${i}`);
      mkdirSync(ctx);
      writeFileSync(join(ctx, `file${i}.txt`), `content ${i}\n`);
      writeFileSync(
        join(ctx, 'Dockerfile'),
        [
          'FROM busybox',
          'RUN echo shared > /shared', // the same step in every build: they race on one cache key
          `COPY file${i}.txt /data/`,
          `RUN [ "$(cat /data/file${i}.txt)" = "content ${i}" ] && seq 1 ${1000 * (i + 1)} > /seq`,
          `CMD ["sh", "-c", "cat /shared /data/file${i}.txt; wc -l < /seq"]`,
          '',
        ].join('\n'),
      );
      contexts.push(ctx);
    }
  });
  after(() => tmp.cleanup());

  for (const round of [1, 2]) {
    it(`round ${round}: all four builds succeed and their images run`, async () => {
      const results = await Promise.all(contexts.map((ctx, i) => collect(spawnTsbuild(root, ['build', '--progress', 'plain', '-t', `conc${i}`, ctx]))));
      results.forEach((r, i) => expect(r.code, `build ${i}: ${r.stderr.slice(-3000)}`).to.equal(0));
      if (round === 2) results.forEach((r) => expect(r.stderr).to.match(/CACHED/));
      for (let i = 0; i < 4; i++) {
        const run = await collect(spawnTsbuild(root, ['run', '--rm', `conc${i}`]));
        expect(run.code, run.stderr).to.equal(0);
        expect(run.stdout).to.equal(`shared\ncontent ${i}\n${1000 * (i + 1)}\n`);
      }
      const fsck = await tsbuild(root, 'fsck');
      expect(fsck.code, fsck.stdout).to.equal(0);
    });
  }
});
