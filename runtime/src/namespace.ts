/**
 * The mount namespaces a tsbuild process deals with. The CLI runs in a
 * private one (cli/bin/tsbuild.js's prologue re-execs it under
 * `unshare --mount --propagation private`), so that every mount it makes dies
 * with it; the prologue keeps a descriptor of the namespace it came from
 * (the host's) and names it in TSBUILD_HOST_MNTNS. A process started through
 * the programmatic API makes its mounts in whatever namespace it runs in:
 * `hostPrefix()` is then empty.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';

let checked: { fd: string | undefined; path: string | undefined } | undefined;

/**
 * `/proc/<pid>/fd/<n>` of the host namespace's descriptor, when this process
 * runs in a private one: the descriptor named by TSBUILD_HOST_MNTNS must be a
 * mount namespace other than this process's own (an inherited variable alone
 * proves nothing).
 */
export function hostNamespacePath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fd = env.TSBUILD_HOST_MNTNS;
  if (checked && checked.fd === fd) return checked.path;
  let path: string | undefined;
  if (fd && /^\d+$/.test(fd)) {
    try {
      const host = readlinkSync(`/proc/self/fd/${fd}`);
      if (host.startsWith('mnt:[') && host !== readlinkSync('/proc/self/ns/mnt')) path = `/proc/${process.pid}/fd/${fd}`;
    } catch {
      // not open (any more)
    }
  }
  checked = { fd, path };
  return path;
}

/** Whether this process runs in a private mount namespace of its own (the CLI's): what it mounts dies with it. */
export function inPrivateNamespace(): boolean {
  return hostNamespacePath() !== undefined;
}

/**
 * argv to put before a command that must run in the host's namespace: a
 * long-lived helper started by the CLI (the context watcher) would otherwise
 * keep the CLI's private namespace, and every mount in it, alive.
 */
export function hostPrefix(env: NodeJS.ProcessEnv = process.env): string[] {
  const ns = hostNamespacePath(env);
  return ns ? ['nsenter', `--mount=${ns}`, '--'] : [];
}

/** A mount table entry: its mount point, unescaped. */
export interface MountEntry {
  target: string;
  fstype: string;
}

/** The mount table of this process's namespace. */
export function ownMounts(): MountEntry[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** The mount table of the host's namespace (this one's when there is no other). */
export function hostMounts(): MountEntry[] {
  const ns = hostNamespacePath();
  if (!ns) return ownMounts();
  return parseMountinfo(execFileSync('nsenter', [`--mount=${ns}`, '--', 'cat', '/proc/self/mountinfo'], { encoding: 'utf8' }));
}

/** Unmounts (lazily: a busy mount is detached) `targets`, in order, in the host's namespace. */
export function unmountInHost(targets: readonly string[]): void {
  const ns = hostNamespacePath();
  if (!ns || targets.length === 0) return;
  try {
    execFileSync('nsenter', [`--mount=${ns}`, '--', 'umount', '-l', ...targets], { stdio: 'ignore' });
  } catch {
    // umount(8) exits non-zero when any one target failed (gone meanwhile): the caller re-reads the table
  }
}

/** /proc/PID/mountinfo lines → entries (field 5 is the mount point, octal-escaped; the fs type follows ` - `). */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    const target = left?.split(' ')[4];
    if (target) out.push({ target: target.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))), fstype: right?.split(' ')[0] ?? '' });
  }
  return out;
}
