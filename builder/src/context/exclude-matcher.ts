/**
 * A matcher for COPY --exclude patterns, with the .dockerignore /
 * moby patternmatcher semantics: patterns are cleaned slash paths, `**`
 * matches any number of directories, `*` `?` `[..]` match within one
 * component, a leading `!` re-includes, the last matching pattern wins, and a
 * pattern that matches a directory also matches everything under it.
 *
 * Kept small on purpose: the .dockerignore matcher proper lives in
 * frontend/dockerignore; this one only serves `--exclude`.
 */
import { posix } from 'node:path';
import { translate } from './go-match.js';

/** The narrow interface this package needs from any ignore/exclude rule set: true = excluded. */
export interface PathMatcher {
  matches(relPath: string): boolean;
  /**
   * Whether some `!` rule could re-include a path under an excluded directory.
   * When false (or absent and the matcher says so), walkers skip excluded
   * directories without listing them. Absent means "assume yes".
   */
  readonly hasExceptions?: boolean;
}

interface Rule {
  negate: boolean;
  re: RegExp;
}

/** Builds a matcher from --exclude (or .dockerignore-style) patterns. Empty list → matches nothing. */
export function createExcludeMatcher(patterns: readonly string[]): PathMatcher {
  const rules: Rule[] = [];
  for (let raw of patterns) {
    raw = raw.trim();
    if (!raw) continue;
    const negate = raw.startsWith('!');
    if (negate) raw = raw.slice(1).trim();
    let p = posix.normalize(raw).replace(/^\/+/, '').replace(/\/+$/, '');
    if (p === '.' || p === '') continue;
    rules.push({ negate, re: new RegExp(`^${toRegExpSource(p)}$`, 's') });
  }
  const hasExceptions = rules.some((r) => r.negate);
  return {
    hasExceptions,
    matches(relPath: string): boolean {
      const path = relPath.replace(/^\/+/, '');
      if (!path || rules.length === 0) return false;
      const parents = parentPaths(path);
      let excluded = false;
      for (const rule of rules) {
        if (rule.negate !== excluded) continue; // cannot change the outcome
        if (rule.re.test(path) || parents.some((p) => rule.re.test(p))) excluded = !rule.negate;
      }
      return excluded;
    },
  };
}

/** `a/b/c` → [`a`, `a/b`]. */
function parentPaths(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join('/'));
  return out;
}

/** `**` spans directories; everything else is a Go component pattern. */
function toRegExpSource(pattern: string): string {
  return pattern
    .split('/')
    .map((part, i, all) => {
      if (part !== '**') return translate(part) + (i < all.length - 1 ? '/' : '');
      return i < all.length - 1 ? '(?:.*/)?' : '.*';
    })
    .join('');
}
