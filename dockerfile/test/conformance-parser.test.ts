/**
 * BuildKit parser conformance (shared/conformance README sections 1, 2, 3, 6, 9):
 * one `it` per case so a failure names it; a summary line of pass counts per set.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { conformanceAvailable, conformanceDir, readConformance, requireConformance } from '../../test/support/conformance.js';
import {
  chompHeredocContent, detectSyntax, DirectiveParser, dumpAst, dumpNode, findDirective, heredocsFromLine,
  nextValues, parseDockerfile, parseHeredoc, parseJSON, parseNameVal, parseWords, type Node,
} from '../src/parser/index.js';
import { locateInstructions } from '../src/dockerfile-ast-adapter.js';
import { parseInstructions } from '../src/instructions/index.js';

const tally = new Map<string, { pass: number; total: number }>();
/** Registers an `it` that also counts toward its set's pass count. */
function check(set: string, name: string, fn: () => void): void {
  const t = tally.get(set) ?? { pass: 0, total: 0 };
  tally.set(set, t);
  t.total++;
  it(name, function () {
    fn();
    t.pass++;
  });
}
const list = (rel: string): string[] =>
  conformanceAvailable && existsSync(join(conformanceDir, rel)) ? readdirSync(join(conformanceDir, rel)).sort() : [];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const cases: any = conformanceAvailable ? JSON.parse(readConformance('buildkit/from-go-tests/parser-cases.json')) : {};

function firstDiff(got: string, exp: string): string {
  const g = got.split('\n');
  const e = exp.split('\n');
  const i = g.findIndex((l, j) => l !== e[j]);
  return `first difference at line ${i + 1}:\n  got:      ${JSON.stringify(g[i])}\n  expected: ${JSON.stringify(e[i])}`;
}
const heredocsOf = (n: Node) => n.heredocs.map((h) => ({ ...h }));

describe('conformance: BuildKit parser', function () {
  before(function () {
    requireConformance(this);
  });
  after(function () {
    if (tally.size === 0) return;
    console.log('    ' + [...tally].map(([s, t]) => `${s}: ${t.pass}/${t.total}`).join(', '));
  });

  describe('parser testfiles (dump equals result)', function () {
    for (const name of list('buildkit/parser/testfiles')) {
      check('parser testfiles', name, () => {
        const dir = `buildkit/parser/testfiles/${name}`;
        const got = dumpAst(parseDockerfile(readConformance(`${dir}/Dockerfile`)).ast);
        const exp = readConformance(`${dir}/result`);
        if (got !== exp) expect.fail(firstDiff(got, exp));
      });
    }
  });

  describe('parser testfiles-negative (must fail)', function () {
    for (const name of list('buildkit/parser/testfiles-negative')) {
      check('negative', name, () => {
        const text = readConformance(`buildkit/parser/testfiles-negative/${name}/Dockerfile`);
        expect(() => parseDockerfile(text)).to.throw();
      });
    }
  });

  describe('parser unit cases (parser-cases.json)', function () {
    if (!conformanceAvailable) return;
    for (const key of ['parseExtractsHeredoc', 'parseJSONHeredoc'] as const) {
      for (const exp of cases[key].expected) {
        check('heredocs', `${key}: child ${exp.childIndex} ${JSON.stringify(exp.instruction)}`, () => {
          const ast = parseDockerfile(cases[key].dockerfile).ast;
          expect(heredocsOf(ast.children[exp.childIndex]!)).to.deep.equal(exp.heredocs ?? []);
        });
      }
    }
    for (const w of cases.parseHeredocWord.validNameEOF) {
      check('ParseHeredoc', `valid ${JSON.stringify(w)}`, () => expect(parseHeredoc(w)?.name).to.equal('EOF'));
    }
    for (const w of cases.parseHeredocWord.invalidError) {
      check('ParseHeredoc', `invalid ${JSON.stringify(w)}`, () => expect(() => parseHeredoc(w)).to.throw());
    }
    for (const w of cases.parseHeredocWord.notHeredocNil) {
      check('ParseHeredoc', `not a heredoc ${JSON.stringify(w)}`, () => expect(parseHeredoc(w)).to.equal(undefined));
    }
    for (const c of cases.heredocsFromLine.cases) {
      check('heredocsFromLine', JSON.stringify(c.line), () => {
        const got = heredocsFromLine(c.line).map((h) => h.name);
        // Upstream's check is a prefix check (see the README); everything but `<<- EOF` holds strictly.
        if (c.line === 'RUN <<- EOF') expect(got).to.deep.equal([]);
        else expect(got).to.deep.equal(c.heredocNames ?? []);
      });
    }
    for (const c of cases.chompHeredocContent.cases) {
      check('chomp', JSON.stringify(c.input), () => expect(chompHeredocContent(c.input)).to.equal(c.expected));
    }
    for (const c of cases.parseWords.cases) {
      check('parseWords', JSON.stringify(c.input), () => expect(parseWords(c.input, '\\')).to.deep.equal(c.expected));
    }
    for (const c of cases.jsonArrays.valid) {
      check('jsonArrays', `valid ${JSON.stringify(c.json)}`, () => expect(parseJSON(c.json)).to.deep.equal(c.expected));
    }
    for (const j of cases.jsonArrays.invalidNotStringArray) {
      check('jsonArrays', `not strings ${JSON.stringify(j)}`, () =>
        expect(() => parseJSON(j)).to.throw('when using JSON array syntax, arrays must be comprised of strings only'));
    }
    check('lineNumbers', 'testfile-line', () => {
      const c = cases.lineNumbers;
      const ast = parseDockerfile(readConformance('buildkit/parser/testfile-line/Dockerfile')).ast;
      expect([ast.startLine, ast.endLine]).to.deep.equal([c.expectedAstStartLine, c.expectedAstEndLine]);
      expect(ast.children).to.have.length(c.expectedChildCount);
      expect(ast.children.map((n) => [n.startLine, n.endLine])).to.deep.equal(c.expectedChildLines);
    });
    check('emptyContinuationWarnings', 'warns twice', () => {
      const c = cases.emptyContinuationWarnings;
      const { warnings } = parseDockerfile(c.dockerfile);
      expect(warnings).to.have.length(c.expectedWarningCount);
      c.warningShortContains.forEach((parts: string[], i: number) => {
        for (const p of parts) expect(warnings[i]!.message).to.contain(p);
        expect(warnings[i]!.rule).to.equal('NoEmptyContinuation');
      });
      expect(warnings[0]!.detail).to.contain(c.firstWarningDetailContains);
    });
    check('lineTooLong', '65536 bytes', () => {
      const c = cases.lineTooLong;
      const text = (c.dockerfileTemplate as string).replace('%s', 'a'.repeat(65536));
      expect(() => parseDockerfile(text)).to.throw(c.expectedError);
    });
    for (const c of cases.parseNameVal.cases) {
      check('parseNameVal', c.test, () => {
        if (c.expectError) {
          expect(() => parseNameVal(c.rest, c.key)).to.throw(c.errorText);
          return;
        }
        const head = parseNameVal(c.rest, c.key);
        expect(head ? [head.value, ...nextValues(head)] : []).to.deep.equal(c.expectedChain);
      });
    }
    cases.directives.cases.forEach((c: Record<string, unknown>, i: number) => {
      check('directives', `${i} ${c.function} ${JSON.stringify(c.input)}`, () => {
        const input = c.input as string;
        if (c.function === 'DirectiveParser.ParseAll') {
          const got = new DirectiveParser().parseAll(input).map((d) => ({ name: d.name, value: d.value }));
          expect(got).to.deep.equal(c.expectedDirectives);
          return;
        }
        const got = c.function === 'DetectSyntax' ? detectSyntax(input) : findDirective('check', input);
        expect(got !== undefined, 'ok').to.equal(c.expectedOk);
        if ('expectedRef' in c) expect(got?.ref ?? '').to.equal(c.expectedRef);
        if ('expectedCmdline' in c) expect(got?.cmdline ?? '').to.equal(c.expectedCmdline);
        if ('expectedLine' in c) expect(got?.line).to.equal(c.expectedLine);
      });
    });
  });

  describe('real-world Dockerfiles', function () {
    const dirs = list('real-world').flatMap((repo) =>
      existsSync(join(conformanceDir, 'real-world', repo)) && !repo.endsWith('.md')
        ? list(`real-world/${repo}`).filter((d) => existsSync(join(conformanceDir, 'real-world', repo, d, 'Dockerfile'))).map((d) => `${repo}/${d}`)
        : [],
    );
    for (const dir of dirs) {
      check('real-world parse', `${dir} parses`, () => {
        parseDockerfile(readConformance(`real-world/${dir}/Dockerfile`));
      });
      check('real-world result.generated', `${dir} result.generated`, () => {
        const got = dumpAst(parseDockerfile(readConformance(`real-world/${dir}/Dockerfile`)).ast);
        const exp = readConformance(`real-world/${dir}/result.generated`);
        if (got !== exp) expect.fail(firstDiff(got, exp));
      });
      check('real-world instructions', `${dir} converts to typed instructions`, () => {
        const text = readConformance(`real-world/${dir}/Dockerfile`);
        const res = parseInstructions(text, { file: dir });
        expect(res.stages.length).to.be.greaterThan(0);
        // cross-check: dockerfile-ast finds every instruction BuildKit's algorithm finds, on the same line
        const located = locateInstructions(text);
        const missing = parseDockerfile(text).ast.children
          .filter((n) => located.get(n.startLine)?.keyword.toLowerCase() !== n.value.toLowerCase())
          .map((n) => `${n.startLine}: ${n.value}`);
        expect(missing, 'instructions dockerfile-ast did not locate').to.deep.equal([]);
      });
      check('real-world parse.generated.json', `${dir} parse.generated.json`, () => {
        const exp = JSON.parse(readConformance(`real-world/${dir}/parse.generated.json`));
        const res = parseDockerfile(readConformance(`real-world/${dir}/Dockerfile`));
        expect(res.escapeToken).to.equal(exp.escapeToken);
        expect(res.warnings.map((w) => w.message)).to.deep.equal(exp.warnings.map((w: { short?: string } | string) => (typeof w === 'string' ? w : w.short)));
        const got = res.ast.children.map((n) => ({
          instruction: n.value, flags: n.flags, startLine: n.startLine, endLine: n.endLine, original: n.original,
          heredocs: heredocsOf(n), dump: dumpNode(n),
        }));
        expect(got).to.deep.equal(exp.instructions);
      });
    }
  });
});
