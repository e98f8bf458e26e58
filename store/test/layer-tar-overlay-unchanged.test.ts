/**
 * An overlay diff leaves out directories that were only copied up (a runtime's
 * mount-point stub created and removed again, mtime restored) — otherwise every
 * RUN layer would carry /etc — but still writes a directory as the parent of a
 * changed child.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packOverlayDiff, readTar } from '@tsbuild/store';
import { tempDir } from '../../test/support/fixtures.js';

async function entryPaths(upperDir: string, lowerDirs: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readTar(packOverlayDiff({ upperDir, lowerDirs }))) out.push(e.path);
  return out;
}

describe('overlay diff: copied-up but unchanged directories', () => {
  let tmp: ReturnType<typeof tempDir>;
  let merged: string;
  let lower: string;
  let upper: string;
  beforeEach(() => {
    tmp = tempDir('tsbuild-ovl-');
    [lower, upper, merged] = ['lower', 'upper', 'merged'].map((d) => join(tmp.path, d)) as [string, string, string];
    for (const d of [lower, upper, merged, join(tmp.path, 'work')]) mkdirSync(d);
    mkdirSync(join(lower, 'etc/deep'), { recursive: true });
    mkdirSync(join(lower, 'var'));
    writeFileSync(join(lower, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `index=off,lowerdir=${lower},upperdir=${upper},workdir=${join(tmp.path, 'work')}`, merged]);
  });
  afterEach(() => {
    execFileSync('umount', [merged]);
    tmp.cleanup();
  });

  it('drops a directory whose stub child was removed and whose mtime was restored', async () => {
    writeFileSync(join(merged, 'etc/deep/hosts'), '');
    rmSync(join(merged, 'etc/deep/hosts'));
    // What the runtime does after removing its stubs: restore the mtimes to the nanosecond.
    execFileSync('touch', ['-r', join(lower, 'etc/deep'), join(merged, 'etc/deep')]);
    execFileSync('touch', ['-r', join(lower, 'etc'), join(merged, 'etc')]);
    writeFileSync(join(merged, 'var/new'), 'x');
    const paths = await entryPaths(upper, [lower]);
    expect(paths.some((p) => p.startsWith('etc'))).to.equal(false, paths.join(', '));
    expect(paths).to.deep.equal(['var/', 'var/new']);
  });

  it('keeps an unchanged directory as the parent of a changed file', async () => {
    writeFileSync(join(merged, 'etc/deep/new'), 'y');
    const paths = await entryPaths(upper, [lower]);
    expect(paths).to.include.members(['etc/deep/new']);
    expect(paths.indexOf('etc/')).to.be.lessThan(paths.indexOf('etc/deep/'));
    expect(paths.indexOf('etc/deep/')).to.be.lessThan(paths.indexOf('etc/deep/new'));
  });
});
