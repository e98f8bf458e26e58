/**
 * Issue 13: what a dead process left on the host — a running container, a
 * mount, its bundle and mount point folders — is found by the folder's owner
 * name (pid + start time) and removed; a live owner's folder is never touched.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatOwner } from '@tsbuild/core';
import { parseMountinfo, reclaimHost } from '@tsbuild/runtime';
import { mount } from '../src/mounter.js';
import { tempDir } from '../../test/support/fixtures.js';

describe('reclaimHost: what dead processes left on the host', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir('tsbuild-reclaim-')));
  afterEach(() => t.cleanup());

  const mounted = (dir: string) => parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter((m) => m.target.startsWith(dir));

  it('a dead owner\'s mounts are unmounted (deepest first) and its folders removed; a live owner\'s stay', async () => {
    const bundles = join(t.path, 'bundles');
    const mnt = join(t.path, 'mnt');
    // Same pid, another start time: a dead process whose pid was recycled to this one.
    const dead = `${process.pid}-1`;
    const deadBundle = join(bundles, dead, 'tsb-1');
    const liveBundle = join(bundles, formatOwner(), 'tsb-2');
    for (const d of [join(deadBundle, 'rootfs'), join(liveBundle, 'rootfs'), join(mnt, dead, 'm-x')]) mkdirSync(d, { recursive: true });
    writeFileSync(join(deadBundle, 'config.json'), '{}');
    await mount({ type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }, join(deadBundle, 'rootfs'));
    mkdirSync(join(deadBundle, 'rootfs', 'inner'));
    await mount({ type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }, join(deadBundle, 'rootfs', 'inner'));
    writeFileSync(join(deadBundle, 'rootfs', 'inner', 'keep'), 'x');
    await mount({ type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }, join(mnt, dead, 'm-x'));
    const opts = { bundleDirs: [bundles], mountDirs: [mnt], stateDirs: {} };

    const found = reclaimHost(opts).map((l) => `${l.kind} ${l.path.slice(t.path.length)}`);
    expect(found).to.have.members([
      `mount /bundles/${dead}/tsb-1/rootfs/inner`, `mount /bundles/${dead}/tsb-1/rootfs`, `mount /mnt/${dead}/m-x`,
      `bundle /bundles/${dead}/tsb-1`, `mount-point /mnt/${dead}/m-x`,
    ]);
    expect(mounted(t.path)).to.have.length(3); // reporting changes nothing

    const repaired = reclaimHost({ ...opts, repair: true });
    expect(repaired.every((l) => l.repaired)).to.equal(true);
    expect(mounted(t.path)).to.deep.equal([]);
    expect(existsSync(join(bundles, dead)) || existsSync(join(mnt, dead))).to.equal(false);
    expect(existsSync(liveBundle)).to.equal(true);
    expect(reclaimHost(opts)).to.deep.equal([]);
  });

  it('a container still running from a dead owner\'s bundle is deleted through its runtime', async function () {
    this.timeout(30_000);
    const state = join(t.path, 'state');
    const bundles = join(t.path, 'bundles');
    const dead = `${process.pid}-1`;
    mkdirSync(join(bundles, dead, 'tsb-c1'), { recursive: true });
    // A stand-in runtime: `delete --force ID` removes the state dir and records the call.
    const fake = join(t.path, 'fake-runtime');
    writeFileSync(fake, `#!/bin/sh\necho "$@" >> ${t.path}/calls\nrm -rf "$2/$5"\n`, { mode: 0o755 });
    mkdirSync(join(state, 'tsb-c1'), { recursive: true });
    const found = reclaimHost({ bundleDirs: [bundles], mountDirs: [], stateDirs: { [fake]: state }, repair: true });
    expect(found.filter((l) => l.kind === 'container').map((l) => l.repaired)).to.deep.equal([true]);
    expect(readFileSync(join(t.path, 'calls'), 'utf8')).to.equal(`--root ${state} delete --force tsb-c1\n`);
    expect(existsSync(join(state, 'tsb-c1'))).to.equal(false);
  });

  it('parses mountinfo, unescaping octal in mount points', () => {
    const line = '36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 - ext3 /dev/root rw,errors=continue';
    expect(parseMountinfo(line)).to.deep.equal([{ target: '/mnt/with space', fstype: 'ext3' }]);
  });
});
