/**
 * Go's `filepath.Match` for one path component: the syntax of COPY/ADD source
 * patterns (`*`, `?`, `[...]` with `^` negation and ranges, `\` escapes).
 * Neither `*` nor `?` ever matches `/`; callers split paths into components
 * and match each one, which is how BuildKit expands wildcard sources.
 * A malformed pattern (unclosed `[`, trailing `\`) is an InvalidArgumentError,
 * as Go returns ErrBadPattern.
 */
import { InvalidArgumentError } from '@tsbuild/core';

const cache = new Map<string, RegExp>();

/** Whether `s` contains a character that makes it a pattern rather than a literal name. */
export function hasMeta(s: string): boolean {
  return /[*?[\\]/.test(s);
}

/**
 * Whether `s` has a wildcard (`*`, `?`, `[`) that is not escaped by a `\`:
 * BuildKit's containsWildcards (frontend/dockerfile/dockerfile2llb/convert_copy.go,
 * fsutil copy), which decides whether a source may match nothing.
 */
export function containsWildcards(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

/** Whether `name` (no `/`) matches the Go pattern `pattern`. */
export function goMatch(pattern: string, name: string): boolean {
  return compileGoPattern(pattern).test(name);
}

/** The anchored RegExp for a Go pattern; memoized. */
export function compileGoPattern(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    re = new RegExp(`^${translate(pattern)}$`, 's');
    cache.set(pattern, re);
  }
  return re;
}

/** Translates a Go pattern to RegExp source; `/` is never matched by a wildcard. */
export function translate(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\') {
      if (i + 1 >= pattern.length) throw badPattern(pattern);
      out += escapeRe(pattern[++i]!);
    } else if (c === '[') {
      const [cls, end] = translateClass(pattern, i);
      out += cls;
      i = end;
    } else out += escapeRe(c);
  }
  return out;
}

/** Translates the class starting at `start` (`[`); returns the RegExp class and the index of `]`. */
function translateClass(pattern: string, start: number): [string, number] {
  let i = start + 1;
  let negate = false;
  if (pattern[i] === '^') {
    negate = true;
    i++;
  }
  let body = '';
  let first = true;
  for (;;) {
    if (i >= pattern.length) throw badPattern(pattern);
    if (pattern[i] === ']' && !first) break;
    const lo = readClassChar(pattern, i);
    i = lo.next;
    if (pattern[i] === '-' && pattern[i + 1] !== ']') {
      const hi = readClassChar(pattern, i + 1);
      if (hi.ch < lo.ch) throw badPattern(pattern);
      body += `${escapeClass(lo.ch)}-${escapeClass(hi.ch)}`;
      i = hi.next;
    } else body += escapeClass(lo.ch);
    first = false;
  }
  // Go's classes never match the separator, negated or not.
  return [negate ? `[^/${body}]` : `(?!/)[${body}]`, i];
}

function readClassChar(pattern: string, i: number): { ch: string; next: number } {
  let c = pattern[i];
  if (c === '\\') {
    i++;
    c = pattern[i];
  }
  if (c === undefined) throw badPattern(pattern);
  return { ch: c, next: i + 1 };
}

function escapeRe(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function escapeClass(c: string): string {
  return c.replace(/[\\\]^-]/g, '\\$&');
}

function badPattern(pattern: string): InvalidArgumentError {
  return new InvalidArgumentError(`syntax error in pattern ${JSON.stringify(pattern)}`, { code: 'CONTEXT_BAD_PATTERN' });
}
