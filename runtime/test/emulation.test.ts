/**
 * Platform detection (runtime/src/emulation.ts): the test binaries are real
 * programs of their architectures (each run by its QEMU emulator directly,
 * no binfmt_misc involved), arm64 runs here through the handler
 * scripts/setup.sh registered, and a platform without one gets the message
 * saying how to enable it.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKED_ARCHES, exitElf, platformNotRunnable, platformSupport } from '@tsbuild/runtime';
import { tempDir } from '../../test/support/fixtures.js';
import { unrunnablePlatform } from '../../test/support/arm64-busybox.js';

describe('emulation: which platforms this host runs', function () {
  this.timeout(30_000);

  it('each test binary is a program of its architecture that exits 0', () => {
    const tmp = tempDir('tsbuild-elf-');
    try {
      for (const [arch, qemu] of CHECKED_ARCHES) {
        const file = join(tmp.path, arch);
        writeFileSync(file, exitElf(arch)!, { mode: 0o755 });
        // Throws on a non-zero exit or a binary QEMU refuses.
        execFileSync(`qemu-${qemu}-static`, [file]);
      }
    } finally {
      tmp.cleanup();
    }
  });

  it('the host architecture is native; arm64 runs emulated through the fix-binary handler setup registered', async () => {
    expect(await platformSupport({ os: 'linux', architecture: 'amd64' })).to.deep.equal({ runnable: true, how: 'native' });
    expect(await platformSupport({ os: 'linux', architecture: 'arm64', variant: 'v8' })).to.deep.equal({ runnable: true, how: 'emulated' });
  });

  it('a platform without a handler is not runnable; the error says how to enable it', async () => {
    const { platform, support } = await unrunnablePlatform();
    expect(support.why).to.equal('no-handler');
    expect(platformNotRunnable(platform, support).message).to.match(new RegExp(`^this host cannot run linux/${platform.architecture} programs: `));
    const err = platformNotRunnable({ os: 'linux', architecture: 's390x' }, { runnable: false, why: 'no-handler', detail: '' });
    expect(err.code).to.equal('PLATFORM_NOT_RUNNABLE');
    expect(err.message).to.equal('this host cannot run linux/s390x programs: no binfmt_misc handler runs its binaries; enable QEMU emulation for it (as root): ' +
      'apt-get install qemu-user-static; mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; ' +
      'cat /usr/lib/binfmt.d/qemu-s390x.conf > /proc/sys/fs/binfmt_misc/register');
    const noFlag = platformNotRunnable({ os: 'linux', architecture: 'arm64' }, { runnable: false, why: 'no-fix-binary', detail: '' });
    expect(noFlag.message).to.include('lacks the fix-binary (F) flag; register it again with it: echo -1 > /proc/sys/fs/binfmt_misc/qemu-aarch64; ');
  });
});
