/**
 * Shared test fixtures. Real parts only: a busybox-static root filesystem is
 * made from the machine's /bin/busybox (Debian's busybox-static, installed by
 * scripts/setup.sh), never downloaded.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, copyFileSync, symlinkSync, writeFileSync, rmSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BUSYBOX = '/bin/busybox';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = 'tsbuild-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(process.env.TSBUILD_TEST_TMP ?? tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Writes a minimal busybox root filesystem into `dir`: /bin/busybox with one
 * symlink per applet, /etc/passwd and /etc/group with root, nobody and a test
 * user `tester` (uid 1000, groups 1000 and 2000 `extra`), /tmp, /root.
 */
export function makeBusyboxRootfs(dir: string): string {
  if (!existsSync(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: run scripts/setup.sh (installs busybox-static)`);
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'tmp', 'root', 'home/tester', 'proc', 'sys', 'dev']) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync(BUSYBOX, join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  const applets = execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    const target = join(dir, applet);
    if (applet === 'bin/busybox' || existsSync(target)) continue;
    const depth = applet.split('/').length - 1;
    symlinkSync(`${'../'.repeat(depth)}bin/busybox`, target);
  }
  writeFileSync(
    join(dir, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\ntester:x:1000:1000:tester:/home/tester:/bin/sh\n',
  );
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\ntester:x:1000:\nextra:x:2000:tester\n');
  return dir;
}

/** Whether we run as root (tests that need root fail loudly in CI rather than skipping). */
export const isRoot = process.getuid?.() === 0;
