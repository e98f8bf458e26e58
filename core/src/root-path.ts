/**
 * In-root path resolution, the `fs.RootPath` / securejoin contract: resolve
 * an in-image path component by component under `root`, reading symlinks
 * ourselves; an absolute link target restarts at `root`, `..` never climbs
 * above it. The result is always a host path inside `root`, so writing there
 * cannot land outside — as long as nobody swaps a component for a symlink
 * between resolution and use (the same race BuildKit accepts: the roots we
 * write into are snapshots only this build touches).
 *
 * Synchronous at heart (an lstat per component, a readlink per link: cheap
 * syscalls whose promise forms cost more than they do); `resolveInRoot` is
 * the same for callers that await.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { PathEscapesRootError } from './errors.js';

const MAX_LINKS = 255;

export interface ResolveOptions {
  /** Follow a symlink in the last component too (default false: the link itself is the result). */
  followFinal?: boolean;
}

/** Host path under `root` for the in-image `path` (absolute or relative, both from `root`). */
export async function resolveInRoot(root: string, path: string, options: ResolveOptions = {}): Promise<string> {
  return resolveInRootSync(root, path, options);
}

export function resolveInRootSync(root: string, path: string, options: ResolveOptions = {}): string {
  const stack: string[] = [];
  const queue = split(path);
  let links = 0;
  while (queue.length) {
    const part = queue.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      stack.pop();
      continue;
    }
    const candidate = hostPath(root, [...stack, part]);
    if (queue.length === 0 && !options.followFinal) {
      stack.push(part);
      break;
    }
    let isLink = false;
    try {
      isLink = lstatSync(candidate).isSymbolicLink();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
    }
    if (!isLink) {
      stack.push(part);
      continue;
    }
    if (++links > MAX_LINKS) throw new PathEscapesRootError(`too many levels of symbolic links resolving ${JSON.stringify(path)}`);
    const target = readlinkSync(candidate);
    if (target.startsWith('/')) stack.length = 0;
    queue.unshift(...split(target));
  }
  return hostPath(root, stack);
}

/** Lexical in-root join for paths that must not contain `..` above the root (archive entries). */
export function isInside(rel: string): boolean {
  let depth = 0;
  for (const part of split(rel)) {
    if (part === '..') depth--;
    else if (part !== '.') depth++;
    if (depth < 0) return false;
  }
  return true;
}

function split(p: string): string[] {
  return p.split('/').filter((s) => s !== '');
}

function hostPath(root: string, parts: string[]): string {
  const base = root.endsWith('/') && root.length > 1 ? root.slice(0, -1) : root;
  return parts.length ? `${base}/${parts.join('/')}` : base;
}
