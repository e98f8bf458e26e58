/**
 * moby/patternmatcher's own cases (shared/conformance README section 8),
 * each its own test named after its pattern(s) and path. Every match case is
 * checked both with `matches` (MatchesOrParentMatches) and with
 * `matchesUsingParentResults` fed the way a tree walk feeds it.
 */
import { expect } from 'chai';
import { cleanPath, compilePattern, createMatcher, EMPTY_MATCH_INFO, PatternMatcher, PatternSyntaxError, readDockerignore } from '../src/dockerignore/index.js';
import { conformanceAvailable, readConformance, requireConformance } from '../../test/support/conformance.js';

const counts = new Map<string, { pass: number; total: number }>();

function counted(set: string, title: string, fn: () => void): void {
  const c = counts.get(set) ?? { pass: 0, total: 0 };
  counts.set(set, c);
  c.total++;
  it(title, () => {
    fn();
    c.pass++;
  });
}

/** The same answer computed by walking down from the top, parent results passed along. */
function matchesWalking(pm: PatternMatcher, path: string): boolean {
  const parts = path.split('/');
  let info = EMPTY_MATCH_INFO;
  let matched = false;
  for (let i = 1; i <= parts.length; i++) {
    const r = pm.matchesUsingParentResults(parts.slice(0, i).join('/'), info);
    info = r.info;
    matched = r.matched;
  }
  return matched;
}

/** Checks one case through every entry point; `packageLevel` adds upstream's Clean and "." rule. */
function checkMatch(patterns: string[], path: string, expected: boolean, packageLevel = false): void {
  const pm = createMatcher(patterns);
  if (packageLevel) {
    const cleaned = cleanPath(path);
    expect(cleaned === '.' ? false : pm.matches(cleaned)).to.equal(expected);
    return;
  }
  expect(pm.matches(path), 'matches').to.equal(expected);
  expect(pm.matchesUsingParentResults(path).matched, 'matchesUsingParentResults without context').to.equal(expected);
  if (!path.startsWith('/') && !path.endsWith('/')) expect(matchesWalking(pm, path), 'matchesUsingParentResults walking').to.equal(expected);
}

interface Cases {
  matches: Array<{ pattern: string; path: string; expectedMatch: boolean }>;
  multiPatternMatches: Array<{ patterns: string[]; path: string; expectedMatch: boolean }>;
  filepathMatchStyle: Array<{ pattern: string; path: string; expectedMatch: boolean; expectedError: string | null }>;
  packageMatches: Array<{ test: string; patterns: string[]; path: string; expectedMatch: boolean; expectError: boolean }>;
  newMatcher: Array<{ test: string; patterns: string[]; expectError: boolean; expectedPatternCount?: number; expectedExclusions?: boolean }>;
  badPatternAtMatchTime: Array<{ patterns: string[]; path: string; expectedError: string }>;
  compile: Array<{ pattern: string; matchType: string; compiledRegexp?: string }>;
  ignoreFileReadAll: Array<{ test: string; content: string | null; expected: string[] }>;
}

describe('conformance: .dockerignore (moby/patternmatcher)', function () {
  before(function () {
    requireConformance(this);
  });
  after(() => {
    const line = [...counts].map(([set, c]) => `${set} ${c.pass}/${c.total}`).join(', ');
    console.log(`    dockerignore conformance: ${line}`);
  });
  if (!conformanceAvailable) {
    it('needs the conformance data', () => undefined); // the before hook skips or fails (CI)
    return;
  }
  const data = JSON.parse(readConformance('patternmatcher/patternmatcher-cases.json')) as Cases;

  describe('matches', () => {
    for (const c of data.matches) {
      counted('matches', `${c.pattern} vs ${c.path} → ${c.expectedMatch}`, () => checkMatch([c.pattern], c.path, c.expectedMatch));
    }
  });

  describe('multiPatternMatches', () => {
    for (const c of data.multiPatternMatches) {
      counted('multiPatternMatches', `${c.patterns.join(', ')} vs ${c.path} → ${c.expectedMatch}`, () =>
        checkMatch(c.patterns, c.path, c.expectedMatch));
    }
  });

  describe('filepathMatchStyle', () => {
    for (const c of data.filepathMatchStyle) {
      const outcome = c.expectedError ? 'error' : String(c.expectedMatch);
      counted('filepathMatchStyle', `${c.pattern} vs ${c.path} → ${outcome}`, () => {
        if (c.expectedError) {
          expect(() => createMatcher([c.pattern]).matches(cleanPath(c.path))).to.throw(PatternSyntaxError, c.expectedError);
        } else {
          checkMatch([c.pattern], c.path, c.expectedMatch, true);
        }
      });
    }
  });

  describe('packageMatches', () => {
    for (const c of data.packageMatches) {
      counted('packageMatches', `${c.test}: ${JSON.stringify(c.patterns)} vs ${c.path}`, () => {
        if (c.expectError) expect(() => checkMatch(c.patterns, c.path, c.expectedMatch, true)).to.throw(PatternSyntaxError);
        else checkMatch(c.patterns, c.path, c.expectedMatch, true);
      });
    }
  });

  describe('newMatcher', () => {
    for (const c of data.newMatcher) {
      counted('newMatcher', `${c.test}: ${JSON.stringify(c.patterns)}`, () => {
        if (c.expectError) {
          expect(() => new PatternMatcher(c.patterns)).to.throw(PatternSyntaxError);
          return;
        }
        const pm = new PatternMatcher(c.patterns);
        if (c.expectedPatternCount !== undefined) expect(pm.patterns).to.have.length(c.expectedPatternCount);
        if (c.expectedExclusions !== undefined) expect(pm.exclusions).to.equal(c.expectedExclusions);
      });
    }
  });

  describe('badPatternAtMatchTime', () => {
    for (const c of data.badPatternAtMatchTime) {
      counted('badPatternAtMatchTime', `${JSON.stringify(c.patterns)} vs ${c.path}`, () => {
        const pm = new PatternMatcher(c.patterns);
        expect(() => pm.matches(c.path)).to.throw(PatternSyntaxError, c.expectedError);
        expect(() => pm.matches(c.path), 'second call').to.throw(PatternSyntaxError, c.expectedError);
        expect(() => pm.matchesUsingParentResults(c.path)).to.throw(PatternSyntaxError, c.expectedError);
      });
    }
  });

  describe('compile (Go regexp text and fast paths)', () => {
    for (const c of data.compile) {
      counted('compile', `${c.pattern} → ${c.matchType}`, () => {
        const compiled = compilePattern(c.pattern);
        expect(compiled.matchType).to.equal(c.matchType);
        expect(compiled.goRegexp).to.equal(c.compiledRegexp);
      });
    }
  });

  describe('ignoreFileReadAll', () => {
    for (const c of data.ignoreFileReadAll) {
      counted('ignoreFileReadAll', `${c.test}: ${JSON.stringify(c.content)}`, () => {
        expect(readDockerignore(c.content ?? '')).to.deep.equal(c.expected);
      });
    }
  });
});
