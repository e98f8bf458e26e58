/**
 * One .dockerignore pattern, compiled the way moby/patternmatcher v0.6.1 does:
 * `*` is any run of non-`/` characters, `?` one non-`/` character, `**` any
 * run including `/` (and `**` then `/` may match nothing), `[...]`/`[^...]` classes and
 * `\x` escapes; the whole path must match. Plain patterns and `**` at either
 * end take string fast paths; the rest become a regexp, built first as the
 * same Go regexp text upstream builds (`goRegexp`, handy for comparing) and
 * then translated to JS.
 */
import { PatternSyntaxError } from './errors.js';
import { goRegexpToJs } from './go-regexp.js';

export type MatchType = 'exact' | 'prefix' | 'suffix' | 'regexp';

/** Characters that are regexp syntax but not filepath-pattern syntax, escaped in the regexp. */
const ESCAPE = new Set(['.', '+', '(', ')', '|', '{', '}', '$']);

export interface CompiledPattern {
  matchType: MatchType;
  /** The Go regexp text, for `regexp` patterns. */
  goRegexp?: string;
}

/** Compiles a cleaned pattern (no leading `!`) to its match type and Go regexp text. */
export function compilePattern(pattern: string): CompiledPattern {
  let reg = '^';
  let type: MatchType = 'exact';
  const p = Array.from(pattern);
  for (let i = 0, k = 0; k < p.length; i++) {
    const ch = p[k++]!;
    if (ch === '*') {
      if (p[k] === '*') {
        k++;
        if (p[k] === '/') k++; // `**/` is `**`
        if (k >= p.length) {
          if (type === 'exact') type = 'prefix';
          else {
            reg += '.*';
            type = 'regexp';
          }
        } else {
          reg += '(.*/)?';
          type = 'regexp';
        }
        if (i === 0) type = 'suffix';
      } else {
        reg += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      reg += '[^/]';
      type = 'regexp';
    } else if (ESCAPE.has(ch)) {
      reg += `\\${ch}`;
    } else if (ch === '\\') {
      if (k < p.length) {
        reg += `\\${p[k++]}`;
        type = 'regexp';
      } else {
        reg += '\\\\';
      }
    } else if (ch === '[' || ch === ']') {
      reg += ch;
      type = 'regexp';
    } else {
      reg += ch;
    }
  }
  return type === 'regexp' ? { matchType: type, goRegexp: `${reg}$` } : { matchType: type };
}

export class Pattern {
  /** The pattern after Clean, without its `!`. */
  readonly cleaned: string;
  /** A `!` pattern: re-includes what earlier patterns excluded. */
  readonly exclusion: boolean;
  private compiled: { type: MatchType; regexp?: RegExp } | undefined;

  constructor(cleaned: string, exclusion: boolean) {
    this.cleaned = cleaned;
    this.exclusion = exclusion;
  }

  toString(): string {
    return this.cleaned;
  }

  /**
   * Whether `path` (slash-separated, relative) matches this pattern alone.
   * Compiles on first use; a pattern whose regexp does not compile throws
   * PatternSyntaxError on every call (nothing broken is cached).
   */
  match(path: string): boolean {
    const c = (this.compiled ??= this.compile());
    switch (c.type) {
      case 'exact':
        return path === this.cleaned;
      case 'prefix':
        return path.startsWith(this.cleaned.slice(0, -2));
      case 'suffix': {
        const suffix = this.cleaned.slice(2);
        if (path.endsWith(suffix)) return true;
        return suffix.startsWith('/') && path === suffix.slice(1); // `**/foo` matches `foo`
      }
      case 'regexp':
        return c.regexp!.test(path);
    }
  }

  private compile(): { type: MatchType; regexp?: RegExp } {
    const { matchType, goRegexp } = compilePattern(this.cleaned);
    if (goRegexp === undefined) return { type: matchType };
    try {
      return { type: matchType, regexp: goRegexpToJs(goRegexp) };
    } catch (err) {
      throw new PatternSyntaxError(this.cleaned, { cause: err });
    }
  }
}
