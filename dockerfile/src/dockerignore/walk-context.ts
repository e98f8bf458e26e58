/**
 * Walking a build context with .dockerignore applied, the way BuildKit's
 * context transfer (tonistiigi/fsutil `filterFS.Walk`) does it.
 */
import type { Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { throwIfAborted } from '@tsbuild/core';
import { EMPTY_MATCH_INFO, type MatchInfo, type PatternMatcher } from './pattern-matcher.js';
import type { Pattern } from './pattern.js';

export interface ContextEntry {
  /** Relative to the context, `/`-separated, no leading `/` (`src/main.ts`). */
  path: string;
  /** From lstat: a symlink is reported as a symlink, never followed. */
  stat: Stats;
}

/**
 * Yields every entry of `contextDir` that the matcher does not exclude, in
 * Go's WalkDir order (depth-first, names sorted by their UTF-8 bytes, a
 * directory before its contents).
 *
 * - An excluded directory is not descended into, unless a `!` pattern could
 *   re-include something inside it; then the walk continues below it and the
 *   directory itself is yielded (once, just before its first included
 *   descendant), so every yielded path has its parents yielded first.
 * - Like fsutil, if any `!` pattern has a wildcard before its last element,
 *   every excluded directory is walked (a cheap prefix test cannot rule it out).
 * - Symlinks are yielded as entries and never followed.
 * - An unreadable directory that is excluded anyway is skipped silently; a
 *   directory that vanishes during the walk is skipped.
 */
export async function* walkContext(
  contextDir: string,
  matcher: PatternMatcher | undefined,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<ContextEntry> {
  const exceptions = matcher?.patterns.filter((p) => p.exclusion) ?? [];
  const onlyPrefixExceptions = !exceptions.some((p) => /[*[\]?^\\]/.test(withoutTrailingGlob(p)));
  const pending: Array<{ entry: ContextEntry; yielded: boolean }> = [];

  async function* walkDir(absDir: string, relDir: string, parentInfo: MatchInfo, excluded: boolean): AsyncGenerator<ContextEntry> {
    let names: string[];
    try {
      names = await readdir(absDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || (excluded && code === 'EACCES')) return;
      throw err;
    }
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    // One directory's entries are lstat()ed at once: a walk of many files waits on the disk in parallel, not once per file.
    const stats = await Promise.all(names.map((name) => lstat(join(absDir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    })));
    for (const [i, name] of names.entries()) {
      throwIfAborted(options.signal);
      const path = relDir === '' ? name : `${relDir}/${name}`;
      const stat = stats[i];
      if (!stat) continue;
      const isDir = stat.isDirectory();
      let skip = false;
      let info = EMPTY_MATCH_INFO;
      if (matcher) {
        const r = matcher.matchesUsingParentResults(path, parentInfo);
        info = r.info;
        if (r.matched) {
          if (isDir && onlyPrefixExceptions && !exceptions.some((p) => `${withoutTrailingGlob(p)}/`.startsWith(`${path}/`))) continue;
          skip = true;
        }
      }
      const entry = { path, stat };
      if (!skip) {
        for (const parent of pending) {
          if (parent.yielded) continue;
          parent.yielded = true;
          yield parent.entry;
        }
        yield entry;
      }
      if (isDir) {
        pending.push({ entry, yielded: !skip });
        try {
          yield* walkDir(join(absDir, name), path, info, skip);
        } finally {
          pending.pop();
        }
      }
    }
  }

  yield* walkDir(contextDir, '', EMPTY_MATCH_INFO, false);
}

/** fsutil `patternWithoutTrailingGlob`: `a/b/**` and `a/b/*` → `a/b`. */
function withoutTrailingGlob(p: Pattern): string {
  let s = p.cleaned;
  if (s.endsWith('/**')) s = s.slice(0, -3);
  if (s.endsWith('/*')) s = s.slice(0, -2);
  return s;
}
