/**
 * Shared test fixtures. Real parts only: a busybox-static root filesystem is
 * made from the machine's /bin/busybox (Debian's busybox-static, installed by
 * scripts/setup.sh), never downloaded.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const BUSYBOX = '/bin/busybox';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'tsbuild-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(process.env.TSBUILD_TEST_TMP ?? tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Writes a minimal busybox root filesystem into `dir` (scripts/make-busybox-rootfs.sh:
 * /bin/busybox with one symlink per applet, /etc/passwd and /etc/group with root,
 * nobody and a test user `tester` (uid 1000, groups 1000 and 2000 `extra`), /tmp, /root).
 */
export function makeBusyboxRootfs(dir: string): string {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: run scripts/setup.sh (installs busybox-static)`);
  execFileSync('bash', [join(repoRoot, 'scripts/make-busybox-rootfs.sh'), dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  return dir;
}

/** Whether we run as root (tests that need root fail loudly in CI rather than skipping). */
export const isRoot = process.getuid?.() === 0;
