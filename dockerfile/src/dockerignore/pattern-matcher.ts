/**
 * The .dockerignore matcher: moby/patternmatcher's `PatternMatcher`, the one
 * BuildKit's context transfer (tonistiigi/fsutil) applies. Patterns apply in
 * order; a later `!pattern` re-includes what an earlier one excluded, and a
 * pattern that names a directory covers everything under it.
 */
import { PatternSyntaxError } from './errors.js';
import { cleanPath, dirPath, goTrimSpace, isBadFilepathPattern } from './go-path.js';
import { Pattern } from './pattern.js';

/**
 * What a directory's match said about each pattern, passed down to its
 * children by `matchesUsingParentResults`. Opaque; `EMPTY_MATCH_INFO` means
 * "no parent information" (the path is matched from scratch).
 */
export interface MatchInfo {
  readonly parentMatched: readonly boolean[];
}

export const EMPTY_MATCH_INFO: MatchInfo = { parentMatched: [] };

export class PatternMatcher {
  readonly patterns: readonly Pattern[];
  /** Whether any pattern is a `!` exclusion. */
  readonly exclusions: boolean;

  /**
   * Each pattern is trimmed; empty ones are dropped; the rest are Cleaned
   * (`a//b/` → `a/b`); a leading `!` marks an exclusion. Throws
   * PatternSyntaxError for a lone `!` or a malformed pattern (`[`, a trailing
   * `\`). Some bad patterns (an out-of-order range like `[z-a]`) pass here and
   * throw from every match call instead, exactly like upstream.
   */
  constructor(patterns: readonly string[]) {
    const out: Pattern[] = [];
    for (const raw of patterns) {
      const trimmed = goTrimSpace(raw);
      if (trimmed === '') continue;
      let p = cleanPath(trimmed);
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw new PatternSyntaxError(p, {}, 'illegal exclusion pattern');
        exclusion = true;
        p = p.slice(1);
      }
      if (isBadFilepathPattern(p)) throw new PatternSyntaxError(p);
      out.push(new Pattern(p, exclusion));
    }
    this.patterns = out;
    this.exclusions = out.some((p) => p.exclusion);
  }

  /**
   * Whether `path` (slash-separated, relative to the context) is excluded:
   * upstream `MatchesOrParentMatches`. A pattern hits when it matches the
   * path or any of its parent directories; each hit sets the answer to
   * "excluded" (or back to "included" for `!`). Patterns that cannot change
   * the current answer are skipped.
   */
  matches(path: string): boolean {
    const parent = dirPath(path);
    const parents = parent === '.' ? [] : prefixes(parent);
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      const hit = pattern.match(path) || parents.some((dir) => pattern.match(dir));
      if (hit) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * `matches` for a tree walk: pass the MatchInfo returned for the parent
   * directory (EMPTY_MATCH_INFO at the top) and keep the returned one for the
   * children of `path` if it is a directory. Same answers, without
   * re-matching every parent.
   */
  matchesUsingParentResults(path: string, parentInfo: MatchInfo = EMPTY_MATCH_INFO): { matched: boolean; info: MatchInfo } {
    const parentMatched = parentInfo.parentMatched;
    if (parentMatched.length !== 0 && parentMatched.length !== this.patterns.length) {
      throw new RangeError('wrong number of values in parentMatched');
    }
    const noContext = parentMatched.length === 0;
    const parent = dirPath(path);
    const parents = noContext && parent !== '.' ? prefixes(parent) : [];
    let matched = false;
    const info: boolean[] = [];
    this.patterns.forEach((pattern, i) => {
      let hit = parentMatched[i] ?? false;
      if (!hit) {
        if (pattern.exclusion !== matched) {
          info.push(false);
          return;
        }
        hit = pattern.match(path) || parents.some((dir) => pattern.match(dir));
      }
      info.push(hit);
      if (hit) matched = !pattern.exclusion;
    });
    return { matched, info: { parentMatched: info } };
  }
}

/** `a/b/c` → `a`, `a/b`, `a/b/c` (upstream splits on `/` and rejoins). */
function prefixes(dir: string): string[] {
  const parts = dir.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** `new PatternMatcher(patterns)`. */
export function createMatcher(patterns: readonly string[]): PatternMatcher {
  return new PatternMatcher(patterns);
}
