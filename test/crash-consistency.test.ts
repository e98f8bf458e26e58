/**
 * A crash mid-build leaves the store consistent: `tsbuild build` is killed
 * with SIGKILL (no cleanup code runs) while a RUN step is writing, then
 * `tsbuild fsck` finds no problem, the same build succeeds afterwards, and
 * after the killed build's container is gone `prune` leaves nothing mounted.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tsbuild } from '../cli/test/support.js';
import { collect, mountsMentioning, processesMentioning, spawnTsbuild } from '../cli/test/run-support.js';
import { makeBusyboxRootfs, tempDir } from './support/fixtures.js';

describe('crash consistency: SIGKILL mid-build', function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;

  before(async () => {
    tmp = tempDir('tsbuild-crash-');
    root = join(tmp.path, 'store');
    const rootfs = makeBusyboxRootfs(join(tmp.path, 'rootfs'));
    expect((await tsbuild(root, 'import', rootfs, '-t', 'busybox')).code).to.equal(0);
  });
  after(() => {
    for (const line of mountsMentioning(tmp.path).reverse()) {
      const target = line.split(' ')[4];
      if (target) execFileSync('umount', ['-l', target]);
    }
    tmp.cleanup();
  });

  it('fsck is clean after a killed build, and the build then succeeds', async () => {
    const marker = `crash-marker-${process.pid}`;
    const ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'big'), Buffer.alloc(8 << 20, 7));
    writeFileSync(
      join(ctx, 'Dockerfile'),
      `FROM busybox\nCOPY big /big\nRUN sh -c 'i=0; while [ $i -lt 200 ]; do dd if=/dev/urandom of=/f$i bs=64k count=4 2>/dev/null; i=$((i+1)); done; echo written; sleep 30' ${marker}\n`,
    );
    const child = spawnTsbuild(root, ['build', '--progress', 'json', '-t', 'crash', ctx]);
    const done = collect(child);
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the RUN step never started: ${seen.slice(-2000)}`)), 60_000);
      child.stderr!.on('data', (c: Buffer) => {
        seen += c.toString();
        if (/"type":"vertex.log"/.test(seen) || /"type":"vertex.started"[^\n]*RUN/.test(seen)) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 500)); // mid-way through the writes
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).to.equal('SIGKILL');

    const fsck = await tsbuild(root, 'fsck');
    expect(fsck.code, fsck.stdout).to.equal(0);
    expect(fsck.stdout).to.match(/0 problems/);

    // The killed build's container is still running its shell: kill it, as a reboot would.
    for (const pid of processesMentioning(marker)) process.kill(pid, 'SIGKILL');
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY big /big\nRUN [ "$(wc -c < /big)" -eq 8388608 ] && echo ok > /ok\n');
    const again = await tsbuild(root, 'build', '--progress', 'plain', '-t', 'crash', ctx);
    expect(again.code, again.stderr).to.equal(0);
    const after = await tsbuild(root, 'fsck');
    expect(after.code, after.stdout).to.equal(0);
  });
});
