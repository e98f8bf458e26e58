import { expect } from 'chai';
import { isInvalidArgument } from '@tsbuild/core';
import { goMatch, hasMeta, cleanPattern } from '@tsbuild/builder';

describe('goMatch (Go filepath.Match per component)', () => {
  const table: Array<[string, string, boolean]> = [
    ['*', 'abc', true],
    ['*.js', 'a.js', true],
    ['*.js', 'a.ts', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['[a-c]x', 'bx', true],
    ['[a-c]x', 'dx', false],
    ['[^a-c]x', 'dx', true],
    ['[^a-c]x', 'ax', false],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['[\\]]', ']', true],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
  ];
  for (const [pattern, name, want] of table) {
    it(`${JSON.stringify(pattern)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(name)}`, () => {
      expect(goMatch(pattern, name)).to.equal(want);
    });
  }

  it('malformed patterns are InvalidArgument, like ErrBadPattern', () => {
    for (const bad of ['[', 'a\\', '[z-a]']) {
      expect(() => goMatch(bad, 'x'), bad).to.throw().that.satisfies(isInvalidArgument);
    }
  });

  it('hasMeta and cleanPattern', () => {
    expect(hasMeta('src/*.ts')).to.equal(true);
    expect(hasMeta('src/main.ts')).to.equal(false);
    expect(cleanPattern('/a//b/./c/')).to.equal('a/b/c');
    expect(cleanPattern('.')).to.equal('');
    expect(cleanPattern('/')).to.equal('');
    expect(() => cleanPattern('a/../../b')).to.throw(/outside of the build context/);
  });
});
