/**
 * Resolving a path inside a root filesystem without ever leaving it: symlinks
 * are followed by hand, absolute targets re-rooted and `..` clamped at the
 * root (the securejoin rule BuildKit uses for /etc/passwd and WORKDIR).
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

const MAX_LINKS = 40;

/** The host path of `path` inside `root`, with every symlink resolved inside `root`. Missing tails are kept as given. */
export async function resolveInRoot(root: string, path: string): Promise<string> {
  return resolveInRootSync(root, path);
}

/**
 * resolveInRoot, synchronously: an lstat per component of a local rootfs
 * takes microseconds, its promise form a thread-pool round trip (a RUN's
 * mount-point stubs resolve a dozen paths before its container starts).
 */
export function resolveInRootSync(root: string, path: string): string {
  const pending = path.split('/').filter(Boolean);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const host = join(root, ...resolved, part);
    const st = lstatSync(host, { throwIfNoEntry: false });
    if (!st?.isSymbolicLink()) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new Error(`too many symlinks resolving ${path}`);
    const target = readlinkSync(host);
    if (target.startsWith('/')) resolved.length = 0;
    pending.unshift(...target.split('/').filter(Boolean));
  }
  return join(root, ...resolved);
}
