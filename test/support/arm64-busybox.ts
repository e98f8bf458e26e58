/**
 * An arm64 busybox root filesystem for multi-platform tests: Debian's
 * busybox-static for arm64, which scripts/setup.sh fetched with
 * `apt-get download busybox-static:arm64` (tests never reach the network),
 * unpacked with dpkg-deb and laid out by scripts/make-busybox-rootfs.sh like
 * the host's (listing its applets runs it: under QEMU, registered by setup).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Platform } from '@tsbuild/core';
import { platformSupport, type PlatformSupport } from '@tsbuild/runtime';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const ARM64_BUSYBOX_DEB = process.env.TSBUILD_ARM64_BUSYBOX_DEB ?? '/var/cache/tsbuild/busybox-static_arm64.deb';

/** Writes the arm64 root filesystem into `dir` (scratch space for the unpacked package goes to `dir`.deb). */
export function makeArm64BusyboxRootfs(dir: string): string {
  if (!existsSync(ARM64_BUSYBOX_DEB)) throw new Error(`${ARM64_BUSYBOX_DEB} is missing: run scripts/setup.sh (fetches busybox-static:arm64)`);
  const unpacked = `${dir}.deb`;
  execFileSync('dpkg-deb', ['-x', ARM64_BUSYBOX_DEB, unpacked]);
  execFileSync('bash', [join(repoRoot, 'scripts/make-busybox-rootfs.sh'), dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, BUSYBOX: join(unpacked, 'bin/busybox') },
  });
  return dir;
}

/**
 * A platform this host cannot run, for the missing-emulator tests: the first
 * candidate without a working binfmt_misc handler (here linux/386: amd64
 * kernels without IA32 emulation refuse it, and Debian ships no qemu-i386
 * binfmt line on x86). Fails when every candidate runs: then disable one
 * handler (`echo 0 > /proc/sys/fs/binfmt_misc/qemu-s390x`) to test.
 */
export async function unrunnablePlatform(): Promise<{ platform: Platform; support: Extract<PlatformSupport, { runnable: false }> }> {
  for (const architecture of ['386', 's390x', 'ppc64', 'riscv64', 'ppc64le']) {
    const platform = { os: 'linux', architecture };
    const support = await platformSupport(platform);
    if (!support.runnable) return { platform, support };
  }
  throw new Error('every candidate platform runs on this host: disable one binfmt_misc handler to test the missing-emulator error');
}
