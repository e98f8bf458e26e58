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
 * - nothing is followed: a symlink is selected as a link, and a pattern that
 *   goes *through* a symlinked directory finds nothing (never reads outside);
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

export interface SelectedEntry {
  /** Slash path relative to the root (`a/b.txt`); `''` for the root itself. */
  rel: string;
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
      const entries: SelectedEntry[] = [{ rel: m.rel, relToSource: '', stat: m.stat }];
      if (m.stat.isDirectory()) await walk(options, m.rel, '', entries);
      out.push({ pattern, entries });
    }
  }
  return out;
}

interface Match {
  rel: string;
  stat: BigIntStats;
}

async function expand(options: SelectOptions, pattern: string): Promise<Match[]> {
  const rootStat = await lstat(options.root, { bigint: true });
  let current: Match[] = [{ rel: '', stat: rootStat }];
  const parts = pattern === '' ? [] : pattern.split('/');
  for (const part of parts) {
    throwIfAborted(options.signal);
    const next: Match[] = [];
    for (const dir of current) {
      if (!dir.stat.isDirectory()) continue;
      const names = hasMeta(part) ? (await listDir(join(options.root, dir.rel))).filter((n) => goMatch(part, n)) : [part];
      for (const name of names.sort()) {
        const rel = dir.rel ? `${dir.rel}/${name}` : name;
        const stat = await lstatOrUndefined(join(options.root, rel));
        if (stat) next.push({ rel, stat });
      }
    }
    current = next;
  }
  return current.filter((m) => m.rel === '' || !isIgnored(options.ignore, m.rel, m.stat) && !isExcluded(options.exclude, m.rel, ''));
}

async function walk(options: SelectOptions, rel: string, relToSource: string, out: SelectedEntry[]): Promise<void> {
  throwIfAborted(options.signal);
  const names = (await listDir(join(options.root, rel))).sort();
  // lstat a directory's entries concurrently (the walk's cost on a warm cache), then recurse in name order.
  const stats = await Promise.all(names.map((name) => lstatOrUndefined(join(options.root, rel ? `${rel}/${name}` : name))));
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    const stat = stats[i];
    if (!stat) continue; // removed while walking
    const childRel = rel ? `${rel}/${name}` : name;
    const childToSource = relToSource ? `${relToSource}/${name}` : name;
    const dir = stat.isDirectory();
    const ignored = isIgnored(options.ignore, childRel, stat) || isExcluded(options.exclude, childRel, childToSource);
    if (ignored) {
      // A `!exception` may still re-include something below an excluded directory.
      if (dir && (hasExceptions(options.ignore) || hasExceptions(options.exclude))) {
        const below: SelectedEntry[] = [];
        await walk(options, childRel, childToSource, below);
        if (below.length) out.push({ rel: childRel, relToSource: childToSource, stat }, ...below);
      }
      continue;
    }
    out.push({ rel: childRel, relToSource: childToSource, stat });
    if (dir) await walk(options, childRel, childToSource, out);
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
