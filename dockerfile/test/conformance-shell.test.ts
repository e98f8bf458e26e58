/**
 * BuildKit's own shell-lexer vectors (shared/conformance README sections 4, 5, 7):
 * envVarTest (ProcessWord), wordsTest (ProcessWords) and the Go test tables of
 * lex_test.go. Each vector is its own test, named after its input.
 */
import { expect } from 'chai';
import { envFromRecord, envFromSlice, processWord, processWords, processWordWithMatches } from '../src/shell/index.js';
import { conformanceAvailable, readConformance, requireConformance } from '../../test/support/conformance.js';

const counts = new Map<string, { pass: number; total: number }>();

/** An `it` that also counts passes per data set, printed after the suite. */
function counted(set: string, title: string, fn: () => void): void {
  const c = counts.get(set) ?? { pass: 0, total: 0 };
  counts.set(set, c);
  c.total++;
  it(title, () => {
    fn();
    c.pass++;
  });
}

function expectThrows(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  expect.fail('expected an error');
}

interface EnvVarLine { platform: string; source: string; expected: string; line: number }

function envVarLines(): EnvVarLine[] {
  const out: EnvVarLine[] = [];
  readConformance('buildkit/shell/envVarTest').split('\n').forEach((raw, i) => {
    const line0 = raw.replace(/\r$/, '');
    if (line0.startsWith('#')) return;
    const line = line0.trim();
    if (!line) return;
    const fields = line.split('|');
    if (fields.length !== 3) throw new Error(`envVarTest:${i + 1}: expected 3 fields`);
    const [platform, source, expected] = fields.map((f) => f.trim()) as [string, string, string];
    if (!['A', 'U', 'W'].includes(platform)) throw new Error(`envVarTest:${i + 1}: bad platform ${platform}`);
    out.push({ platform, source, expected, line: i + 1 });
  });
  return out;
}

interface WordsLine { input: string; expected: string[]; env: string[]; line: number }

function wordsLines(): WordsLine[] {
  const out: WordsLine[] = [];
  const env: string[] = [];
  const lines = readConformance('buildkit/shell/wordsTest').split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('#')) return;
    if (line.startsWith('ENV ')) {
      env.push(line.slice(3).replace(/^ +/, ''));
      return;
    }
    const fields = line.split('|');
    if (fields.length !== 2) throw new Error(`wordsTest:${i + 1}: expected exactly one |`);
    out.push({ input: fields[0]!.trim(), expected: fields[1]!.replace(/^ +/, '').split(','), env: [...env], line: i + 1 });
  });
  return out;
}

interface ShellCases {
  processWordWithMatches: { cases: Array<{ input: string; envs: Record<string, string>; expected?: string; matched?: string[]; unmatched?: string[]; expectError?: boolean }> };
  mandatoryEnvVars: { cases: Array<{ input: string; envs: Record<string, string>; expected?: string; expectErrorContaining?: string }> };
  platformMatches: { cases: Array<{ input: string; envs: Record<string, string>; expected: string }> };
  envsFromSlice: { cases: Array<{ envs: string[]; lookups: Record<string, string> }> };
}

describe('conformance: BuildKit shell lexer', function () {
  before(function () {
    requireConformance(this);
  });
  after(() => {
    const line = [...counts].map(([set, c]) => `${set} ${c.pass}/${c.total}`).join(', ');
    console.log(`    shell conformance: ${line}`);
  });
  if (!conformanceAvailable) {
    it('needs the conformance data', () => undefined); // the before hook skips or fails (CI)
    return;
  }

  describe('envVarTest (ProcessWord, Linux: A and U lines)', () => {
    const env = envFromRecord({ PWD: '/home', SHELL: 'bash', KOREAN: '한국어', NULL: '' });
    for (const v of envVarLines()) {
      if (v.platform === 'W') continue;
      counted('envVarTest', `line ${v.line}: ${v.source} → ${v.expected === 'error' ? 'error' : JSON.stringify(v.expected)}`, () => {
        if (v.expected === 'error') expectThrows(() => processWord(v.source, env));
        else expect(processWord(v.source, env)).to.equal(v.expected);
      });
    }
  });

  describe('wordsTest (ProcessWords)', () => {
    for (const v of wordsLines()) {
      counted('wordsTest', `line ${v.line}: ${v.input}`, () => {
        let got: string[];
        try {
          got = processWords(v.input, envFromSlice(v.env));
        } catch {
          got = ['error'];
        }
        expect(got).to.deep.equal(v.expected);
      });
    }
  });

  describe('shell-cases.json', () => {
    const data = JSON.parse(readConformance('buildkit/from-go-tests/shell-cases.json')) as ShellCases;

    for (const c of data.processWordWithMatches.cases) {
      counted('processWordWithMatches', `${c.input} with ${JSON.stringify(c.envs)}`, () => {
        if (c.expectError) {
          expectThrows(() => processWordWithMatches(c.input, envFromRecord(c.envs)));
          return;
        }
        const r = processWordWithMatches(c.input, envFromRecord(c.envs));
        expect(r.result).to.equal(c.expected);
        expect([...r.matched].sort()).to.deep.equal([...(c.matched ?? [])].sort());
        expect([...r.unmatched].sort()).to.deep.equal([...(c.unmatched ?? [])].sort());
      });
    }

    for (const c of data.mandatoryEnvVars.cases) {
      counted('mandatoryEnvVars', `${c.input} with ${JSON.stringify(c.envs)}`, () => {
        if (c.expectErrorContaining !== undefined) {
          const err = expectThrows(() => processWord(c.input, envFromRecord(c.envs)));
          expect(err.message).to.contain(c.expectErrorContaining);
        } else {
          expect(processWord(c.input, envFromRecord(c.envs))).to.equal(c.expected);
        }
      });
    }

    for (const c of data.platformMatches.cases) {
      counted('platformMatches', `${c.input} with ${JSON.stringify(c.envs)}`, () => {
        expect(processWordWithMatches(c.input, envFromRecord(c.envs)).result).to.equal(c.expected);
      });
    }

    for (const c of data.envsFromSlice.cases) {
      counted('envsFromSlice', JSON.stringify(c.envs), () => {
        const env = envFromSlice(c.envs);
        for (const [name, value] of Object.entries(c.lookups)) expect(env.get(name) ?? '').to.equal(value, name);
      });
    }
  });
});
