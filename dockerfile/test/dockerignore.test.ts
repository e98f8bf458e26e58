/**
 * Behaviour of the .dockerignore matcher beyond the upstream tables: error
 * shape, Go regexp edge cases, Clean and ignore-file reading details.
 */
import { expect } from 'chai';
import { isInvalidArgument } from '@tsbuild/core';
import { cleanPath, createMatcher, PatternSyntaxError, readDockerignore } from '../src/dockerignore/index.js';

function thrown(fn: () => unknown): PatternSyntaxError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(PatternSyntaxError);
    return err as PatternSyntaxError;
  }
  expect.fail('expected a PatternSyntaxError');
}

describe('dockerignore PatternMatcher', () => {
  it('reports a malformed pattern with its text, a stable code and the InvalidArgument category', () => {
    const err = thrown(() => createMatcher(['ok', 'a[']));
    expect(err.pattern).to.equal('a[');
    expect(err.code).to.equal('DOCKERIGNORE_BAD_PATTERN');
    expect(err.message).to.equal('syntax error in pattern: "a["');
    expect(isInvalidArgument(err)).to.equal(true);
  });

  it('rejects a lone `!` with upstream wording', () => {
    expect(thrown(() => createMatcher(['  !  '])).message).to.equal('illegal exclusion pattern: "!"');
  });

  it('Cleans patterns: `./a//b/` and `a/x/../b` are `a/b`', () => {
    const m = createMatcher(['./a//b/', '!a/x/../b/keep']);
    expect(m.patterns.map(String)).to.deep.equal(['a/b', 'a/b/keep']);
    expect(m.matches('a/b/c')).to.equal(true);
    expect(m.matches('a/b/keep')).to.equal(false);
    expect(m.matches('a/bc')).to.equal(false);
  });

  it('a later pattern re-excludes what a `!` re-included', () => {
    const m = createMatcher(['*.md', '!README*.md', 'README-secret.md']);
    expect(m.matches('x.md')).to.equal(true);
    expect(m.matches('README.md')).to.equal(false);
    expect(m.matches('README-secret.md')).to.equal(true);
  });

  it('a star never crosses `/`, `**` does', () => {
    expect(createMatcher(['*/a']).matches('x/y/a')).to.equal(false);
    expect(createMatcher(['**/a']).matches('x/y/a')).to.equal(true);
    expect(createMatcher(['x/**/a']).matches('x/a')).to.equal(true);
  });

  it('translates Go regexp escapes: punctuation escapes are literal, `\\d` is a digit class', () => {
    expect(createMatcher(['a\\-b']).matches('a-b')).to.equal(true);
    expect(createMatcher(['a\\!b']).matches('a!b')).to.equal(true);
    expect(createMatcher(['v\\d']).matches('v7')).to.equal(true);
    expect(createMatcher(['v\\d']).matches('vd')).to.equal(false);
  });

  it('supports POSIX classes inside brackets, as Go regexp does', () => {
    const m = createMatcher(['file[[:digit:]]']);
    expect(m.matches('file7')).to.equal(true);
    expect(m.matches('filex')).to.equal(false);
  });

  it('`?` and `*` match whole characters beyond the BMP', () => {
    expect(createMatcher(['a?b']).matches('a😀b')).to.equal(true);
    expect(createMatcher(['[😀-😂]']).matches('😁')).to.equal(true);
  });

  it('a wildcard never matches a newline in a name (Go `.` semantics) while `[^/]` does', () => {
    expect(createMatcher(['**/x*']).matches('a\nb/x')).to.equal(false);
    expect(createMatcher(['**/x*']).matches('a b/x')).to.equal(true);
    expect(createMatcher(['*/x']).matches('a\nb/x')).to.equal(true);
  });

  it('throws at every match for a range Go regexp rejects, and still builds', () => {
    const m = createMatcher(['[z-a]']);
    expect(() => m.matches('q')).to.throw(PatternSyntaxError);
    expect(() => m.matches('q')).to.throw(PatternSyntaxError);
  });
});

describe('cleanPath (Go filepath.Clean)', () => {
  const cases: Array<[string, string]> = [
    ['', '.'], ['.', '.'], ['a/', 'a'], ['//a//b//', '/a/b'], ['/..', '/'], ['../../a', '../../a'],
    ['a/../..', '..'], ['a/./b/.', 'a/b'], ['/a/../../b', '/b'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => expect(cleanPath(input)).to.equal(expected));
  }
});

describe('readDockerignore', () => {
  it('strips a BOM, CRLF endings, comments in column 0 only, and leading `/`', () => {
    const text = '\uFEFF# comment\r\n/abs/path/\r\n  # not a comment\r\n!  /keep//me\r\n\r\n';
    expect(readDockerignore(text)).to.deep.equal(['abs/path', '# not a comment', '!keep/me']);
  });

  it('keeps a lone `!` so that building the matcher fails', () => {
    const patterns = readDockerignore('!\n');
    expect(patterns).to.deep.equal(['!']);
    expect(() => createMatcher(patterns)).to.throw(PatternSyntaxError);
  });

  it('trims Unicode white space like Go (NEL yes, BOM inside a line no)', () => {
    expect(readDockerignore('\u0085a\u00a0\n')).to.deep.equal(['a']);
  });
});
