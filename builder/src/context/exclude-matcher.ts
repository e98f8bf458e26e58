/**
 * The narrow matcher interface context selection needs, and the COPY
 * --exclude matcher built on the .dockerignore PatternMatcher (moby
 * patternmatcher semantics: cleaned slash paths, `**` spans directories,
 * `!` re-includes, last match wins, a match on a directory covers its
 * subtree).
 */
import { createMatcher } from '@tsbuild/dockerfile';

/** What selection needs from any ignore/exclude rule set: `matches` true = excluded. */
export interface PathMatcher {
  matches(relPath: string): boolean;
  /**
   * Whether some `!` rule could re-include a path under an excluded
   * directory (`exclusions` is the PatternMatcher's name for it). When both
   * are absent, walkers assume yes and look inside excluded directories.
   */
  readonly hasExceptions?: boolean;
  readonly exclusions?: boolean;
}

/** A matcher for --exclude patterns; an empty list matches nothing. Throws PatternSyntaxError for a malformed pattern. */
export function createExcludeMatcher(patterns: readonly string[]): PathMatcher {
  const matcher = createMatcher(patterns);
  return { matches: (p) => matcher.matches(p), hasExceptions: matcher.exclusions };
}
