/**
 * Seeded fuzzing of the whole frontend: Dockerfiles mutated from the
 * conformance corpus go through parseDockerfile → parseInstructions →
 * stage graph. The only acceptable outcomes are a graph or a TsbuildError
 * with a code; anything else, or a case slower than CASE_LIMIT_MS, fails with
 * the seed, the case number and the input saved to a temp file.
 * Reproduce with TSBUILD_FUZZ_SEED=<seed>.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsbuildError, type ImageConfig } from '@tsbuild/core';
import { expect } from 'chai';
import { conformanceAvailable, conformanceDir, findDockerfiles, readConformance, requireConformance } from '../../test/support/conformance.js';
import { parseDockerfile } from '../src/parser/index.js';
import { parseInstructions } from '../src/instructions/index.js';
import { stageGraphFromInstructions } from '../src/stages/index.js';
import { mulberry32 } from '../../test/support/prng.js';

const SEED = Number(process.env.TSBUILD_FUZZ_SEED ?? 0x7b5eed);
const MIN_CASES = 20_000;
const BUDGET_MS = 60_000;
const CASE_LIMIT_MS = 2_000;


const KEYWORDS = ['FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME', 'USER',
  'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL', 'from', 'Run'];
const TOKENS = ['\\', '\\\n', '`', '<<EOF\n', '<<-EOF\nx\n\tEOF\n', '\nEOF\n', '${', '}', '$', '${A:-', '${A:?x}', '${A#', '"', "'", '[', ']',
  '["a", "b"]', '--mount=', '--mount=type=cache,from=0,target=/c', '--from=', '--from=0', '--from=${S}', '--platform=', '--platform=$BUILDPLATFORM',
  '--chown=', ' AS ', ' as x', '\n', '\r\n', '# escape=`\n', '# syntax=x\n', '#', ' ', '\t', '=', ':', ',', '\u00e9', '\u2603', '\0', 'ARG A=1\n',
  'FROM scratch\n', 'FROM scratch AS a\n', 'COPY --from=a x y\n', '--', '--link', '--interval=1s', 'NONE', '0', '-1', '99999999'];

type Rng = () => number;
const pick = <T>(r: Rng, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
const int = (r: Rng, n: number): number => Math.floor(r() * n);

function mutate(r: Rng, input: string, corpus: readonly string[]): string {
  let s = input;
  const ops = r() < 0.5 ? 1 : 1 + int(r, 4);
  for (let k = 0; k < ops; k++) {
    const lines = s.split('\n');
    switch (int(r, 10)) {
      case 0: { // byte flip
        if (!s) break;
        const i = int(r, s.length);
        s = s.slice(0, i) + String.fromCharCode(int(r, 128)) + s.slice(i + 1);
        break;
      }
      case 1: // delete a line
        lines.splice(int(r, lines.length), 1);
        s = lines.join('\n');
        break;
      case 2: { // duplicate a line
        const i = int(r, lines.length);
        lines.splice(i, 0, lines[i]!);
        s = lines.join('\n');
        break;
      }
      case 3: { // swap two lines
        const i = int(r, lines.length);
        const j = int(r, lines.length);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        s = lines.join('\n');
        break;
      }
      case 4:
      case 5: { // insert a token
        const i = int(r, s.length + 1);
        s = s.slice(0, i) + pick(r, TOKENS) + s.slice(i);
        break;
      }
      case 6: { // insert a random instruction
        const i = int(r, lines.length + 1);
        lines.splice(i, 0, `${pick(r, KEYWORDS)} ${pick(r, TOKENS)}${pick(r, TOKENS)} ${pick(r, ['x', '$A', '/a', 'alpine', '[]', ''])}`);
        s = lines.join('\n');
        break;
      }
      case 7: // truncate
        s = s.slice(0, int(r, s.length + 1));
        break;
      case 8: { // splice lines of another file
        const other = pick(r, corpus).split('\n');
        const at = int(r, other.length);
        lines.splice(int(r, lines.length + 1), 0, ...other.slice(at, at + 1 + int(r, 5)));
        s = lines.join('\n');
        break;
      }
      default: { // replace a keyword
        const i = int(r, lines.length);
        lines[i] = lines[i]!.replace(/^\s*\w+/, pick(r, KEYWORDS));
        s = lines.join('\n');
      }
    }
  }
  return s;
}

/** A window of at most 40 lines: keeps cases small so many run. */
function window(r: Rng, text: string): string {
  const lines = text.split('\n');
  if (lines.length <= 40) return text;
  // Start at an instruction (not inside a continuation) so most cases get past the parser.
  const starts = lines.map((_, i) => i).filter((i) => /^[A-Za-z]+\s/.test(lines[i]!) && !/\\\s*$/.test(lines[i - 1] ?? ''));
  const start = starts.length ? pick(r, starts) : int(r, lines.length - 40);
  let end = Math.min(lines.length, start + 40);
  while (end < lines.length && /\\\s*$/.test(lines[end - 1]!)) end++;
  return `FROM scratch\n${lines.slice(start, end).join('\n')}`;
}

function listCorpus(): string[] {
  return ['buildkit/parser', 'real-world'].flatMap((d) => findDockerfiles(join(conformanceDir, d)));
}

function runCase(input: string, r: Rng): void {
  const parsed = parseDockerfile(input);
  const instructions = parseInstructions(parsed, { text: input });
  // Sometimes the base images are "known", with ONBUILD triggers taken from the input itself.
  const lines = input.split('\n');
  const triggers = [pick(r, lines), `${pick(r, KEYWORDS)} ${pick(r, TOKENS)}`];
  const image: ImageConfig = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Env: ['PATH=/bin', 'A=x'], OnBuild: triggers } };
  stageGraphFromInstructions(instructions, {
    ...(r() < 0.15 ? { baseImageConfig: () => image } : {}),
    platform: { build: { os: 'linux', architecture: 'amd64' }, target: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ...(r() < 0.2 ? { buildArgs: { A: '1', S: '0', IMG: 'alpine' } } : {}),
    ...(r() < 0.1 ? { target: pick(r, ['a', '0', 'x']) } : {}),
  });
}

describe('fuzz: parser → instructions → stage graph', function () {
  before(function () {
    requireConformance(this);
  });

  it(`survives ≥ ${MIN_CASES} mutated Dockerfiles (seed ${SEED})`, function () {
    this.timeout(BUDGET_MS + 30_000);
    const corpus = conformanceAvailable ? listCorpus().map(readConformance) : [];
    expect(corpus.length).to.be.greaterThan(80);
    console.log(`    fuzz seed ${SEED} (set TSBUILD_FUZZ_SEED to reproduce)`);
    const r = mulberry32(SEED);
    const started = Date.now();
    let cases = 0;
    const outcomes = { graph: 0, error: 0 };
    while (cases < MIN_CASES && Date.now() - started < BUDGET_MS) {
      const input = mutate(r, window(r, pick(r, corpus)), corpus);
      const t0 = Date.now();
      let failure: string | undefined;
      try {
        runCase(input, r);
        outcomes.graph++;
      } catch (err) {
        if (err instanceof TsbuildError && typeof err.code === 'string' && err.code !== '') outcomes.error++;
        else failure = `unexpected ${(err as Error)?.name}: ${(err as Error)?.stack ?? String(err)}`;
      }
      const took = Date.now() - t0;
      if (!failure && took > CASE_LIMIT_MS) failure = `case took ${took} ms (limit ${CASE_LIMIT_MS})`;
      if (failure) {
        const path = join(mkdtempSync(join(tmpdir(), 'tsbuild-fuzz-')), `case-${cases}.Dockerfile`);
        writeFileSync(path, input);
        throw new Error(`fuzz seed ${SEED} case ${cases}: ${failure}\ninput saved to ${path}\n${JSON.stringify(input).slice(0, 2000)}`);
      }
      cases++;
    }
    console.log(`    ${cases} cases in ${Date.now() - started} ms: ${outcomes.graph} graphs, ${outcomes.error} typed errors`);
    expect(cases).to.be.at.least(MIN_CASES);
    expect(outcomes.graph).to.be.greaterThan(0);
    expect(outcomes.error).to.be.greaterThan(0);
  });
});
