/**
 * Source selection: which entries of a root directory a list of COPY/ADD
 * source patterns selects, after .dockerignore and --exclude. The one
 * definition shared by the context checksum and by copy, so the cache key
 * covers exactly what the copy reads.
 *
 * Rules (BuildKit's `contenthash` + `fsutil/copy`):
 * - a pattern is a slash path relative to the root (a leading `/` means the
 *   root); each component may be a Go pattern; `..` that leaves the root is
 *   a ContextPathEscapesError;
 * - a matched directory selects its whole subtree;
 * - a source is what the pattern names, with its symlinks resolved *inside*
 *   the root (BuildKit's Dockerfile COPY sets FollowSymlinks: fsutil's
 *   `rootPath(root, src, true)` = containerd's fs.RootPath, like securejoin):
 *   a top-level source that is a symlink — named, or a glob's match — is
 *   copied as its target's content under its own name, and a symlinked
 *   directory before the first glob component is gone through. An absolute
 *   or `..` target resolves as if the root were `/`: nothing outside the
 *   root is ever read (`link -> /etc/passwd` means `<root>/etc/passwd`);
 * - symlinks *inside* a selected directory, and directories a glob
 *   component lists, are not followed: they are selected as links;
 * - ignored (.dockerignore) entries do not exist; a pattern that matches
 *   nothing is a ContextPathNotFoundError;
 * - --exclude patterns are matched against the path relative to the root and
 *   against the path relative to the matched source (`COPY --exclude=*.txt dir/`).
 */
import { lstat, readdir } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { posix } from 'node:path';
import { throwIfAborted } from '@tsbuild/core';
import { goMatch, hasMeta } from './go-match.js';
import type { PathMatcher } from './exclude-matcher.js';
import { ContextPathEscapesError, ContextPathNotFoundError } from './errors.js';
import { resolveInRoot } from '../fileops/root-path.js';

export interface SelectedEntry {
  /**
   * Slash path relative to the root (`a/b.txt`) as the source names it — a
   * symlink source's own name, not its target's; `''` for the root itself.
   */
  rel: string;
  /** Root-relative path actually read: `rel` with the source's symlinks resolved inside the root (the same as `rel` when there are none). */
  real: string;
  /** Slash path relative to the source that selected it; `''` for the source itself. */
  relToSource: string;
  stat: BigIntStats;
}

export interface SelectedSource {
  /** The pattern, cleaned, that matched. */
  pattern: string;
  /** The matched entry itself (first) followed by its subtree, parents before children, names sorted. */
  entries: SelectedEntry[];
}

export interface SelectOptions {
  root: string;
  patterns: readonly string[];
  ignore?: PathMatcher | undefined;
  exclude?: PathMatcher | undefined;
  signal?: AbortSignal | undefined;
}

/** Cleans a pattern to a root-relative slash path (`''` = root); throws if it escapes. */
export function cleanPattern(pattern: string): string {
  const p = posix.normalize(`/${pattern}`);
  // normalize('/..') is '/', so escape is detected on the raw relative form.
  const rel = posix.normalize(pattern.replace(/^\/+/, '') || '.');
  if (rel === '..' || rel.startsWith('../')) throw new ContextPathEscapesError(pattern);
  return p === '/' ? '' : p.slice(1).replace(/\/+$/, '');
}

/** Expands every pattern; one SelectedSource per match, in pattern order then name order. */
export async function selectSources(options: SelectOptions): Promise<SelectedSource[]> {
  const out: SelectedSource[] = [];
  for (const raw of options.patterns) {
    const pattern = cleanPattern(raw);
    const matches = await expand(options, pattern);
    if (matches.length === 0) throw new ContextPathNotFoundError(pattern);
    for (const m of matches) {
      const entries: SelectedEntry[] = [{ rel: m.rel, real: m.real, relToSource: '', stat: m.stat }];
      if (m.stat.isDirectory()) await walk(options, m.real, m.rel, '', entries);
      out.push({ pattern, entries });
    }
  }
  return out;
}

interface Match {
  /** As named. */
  rel: string;
  /** As read (symlinks resolved in the root). */
  real: string;
  stat: BigIntStats;
}

async function expand(options: SelectOptions, pattern: string): Promise<Match[]> {
  const parts = pattern === '' ? [] : pattern.split('/');
  const firstGlob = parts.findIndex((p) => hasMeta(p));
  // The literal part before the first glob component: resolved in the root, through symlinks.
  const literal = parts.slice(0, firstGlob < 0 ? parts.length : firstGlob).join('/');
  const start = await resolved(options.root, literal, literal);
  if (!start) return [];
  let current: Match[] = [start];
  const globs = firstGlob < 0 ? [] : parts.slice(firstGlob);
  for (let i = 0; i < globs.length; i++) {
    throwIfAborted(options.signal);
    const part = globs[i]!;
    const last = i === globs.length - 1;
    const next: Match[] = [];
    for (const dir of current) {
      if (!dir.stat.isDirectory()) continue;
      const names = (await listDir(join(options.root, dir.real))).filter((n) => goMatch(part, n));
      for (const name of names.sort()) {
        const rel = dir.rel ? `${dir.rel}/${name}` : name;
        const real = dir.real ? `${dir.real}/${name}` : name;
        const stat = await lstatOrUndefined(join(options.root, real));
        if (!stat) continue;
        if (last && stat.isSymbolicLink()) {
          if (isIgnored(options.ignore, rel, stat) || isExcluded(options.exclude, rel, '')) continue;
          // A glob's match is a top-level source: followed inside the root (a dangling one is not found).
          const target = await resolved(options.root, real, rel);
          if (!target) throw new ContextPathNotFoundError(rel);
          next.push(target);
        } else next.push({ rel, real, stat });
      }
    }
    current = next;
  }
  return current.filter((m) => m.rel === '' || !isIgnored(options.ignore, m.rel, m.stat) && !isIgnored(options.ignore, m.real, m.stat) && !isExcluded(options.exclude, m.rel, ''));
}

/** `path` (root-relative) with every symlink resolved inside `root`, named `rel`; undefined when nothing is there. */
async function resolved(root: string, path: string, rel: string): Promise<Match | undefined> {
  const host = await resolveInRoot(root, path, { followFinal: true });
  const base = root.length > 1 ? root.replace(/\/+$/, '') : root;
  const real = host === base ? '' : host.slice(base.length + 1);
  const stat = await lstatOrUndefined(join(root, real));
  return stat ? { rel, real, stat } : undefined;
}

async function walk(options: SelectOptions, real: string, rel: string, relToSource: string, out: SelectedEntry[]): Promise<void> {
  throwIfAborted(options.signal);
  const names = (await listDir(join(options.root, real))).sort();
  // lstat a directory's entries concurrently (the walk's cost on a warm cache), then recurse in name order.
  const stats = await Promise.all(names.map((name) => lstatOrUndefined(join(options.root, real ? `${real}/${name}` : name))));
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const stat = stats[i];
    if (!stat) continue; // removed while walking
    const childReal = real ? `${real}/${name}` : name;
    const childRel = rel ? `${rel}/${name}` : name;
    const childToSource = relToSource ? `${relToSource}/${name}` : name;
    const dir = stat.isDirectory();
    // .dockerignore applies to what is read (the context as sent), --exclude to the path as named.
    const ignored = isIgnored(options.ignore, childReal, stat) || isExcluded(options.exclude, childRel, childToSource);
    if (ignored) {
      // A `!exception` may still re-include something below an excluded directory.
      if (dir && (hasExceptions(options.ignore) || hasExceptions(options.exclude))) {
        const below: SelectedEntry[] = [];
        await walk(options, childReal, childRel, childToSource, below);
        if (below.length) out.push({ rel: childRel, real: childReal, relToSource: childToSource, stat }, ...below);
      }
      continue;
    }
    out.push({ rel: childRel, real: childReal, relToSource: childToSource, stat });
    if (dir) await walk(options, childReal, childRel, childToSource, out);
  }
}

function isIgnored(ignore: PathMatcher | undefined, rel: string, _stat: BigIntStats): boolean {
  return !!ignore && ignore.matches(rel);
}

function isExcluded(exclude: PathMatcher | undefined, rel: string, relToSource: string): boolean {
  if (!exclude) return false;
  return exclude.matches(rel) || (relToSource !== '' && exclude.matches(relToSource));
}

function hasExceptions(m: PathMatcher | undefined): boolean {
  return !!m && (m.hasExceptions ?? m.exclusions ?? true);
}

function join(root: string, rel: string): string {
  return rel ? `${root}/${rel}` : root;
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
}

async function lstatOrUndefined(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}
