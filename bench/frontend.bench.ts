/**
 * Frontend throughput on the real-world corpus (52 Dockerfiles of official
 * images and BuildKit's own): parse → typed instructions → stage graph, each
 * phase timed alone, median of several rounds, in Dockerfiles per second.
 *
 *   npx tsx bench/frontend.bench.ts [--rounds N]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { conformanceAvailable, conformanceDir, conformanceMissingMessage } from '../test/support/conformance.js';
import { parseDockerfile, parseInstructions, printStageGraph, stageGraphFromInstructions } from '@tsbuild/dockerfile';

const argv = process.argv.slice(2);
const roundsArg = argv.indexOf('--rounds');
const ROUNDS = roundsArg >= 0 ? Number(argv[roundsArg + 1]) : 7;
/** Each round processes the corpus this many times, so one round lasts long enough to time. */
const REPEAT = 10;

if (!conformanceAvailable) {
  console.error(conformanceMissingMessage);
  process.exit(1);
}

function dockerfiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return dockerfiles(p);
    return /^Dockerfile/.test(name) ? [p] : [];
  });
}

const texts = dockerfiles(join(conformanceDir, 'real-world')).map((p) => readFileSync(p, 'utf8'));
const linux = { os: 'linux', architecture: 'amd64' };
const parsed = texts.map((t) => parseDockerfile(t));
const instructions = parsed.map((p, i) => parseInstructions(p, { text: texts[i]! }));
const graphs = instructions.map((x) => stageGraphFromInstructions(x, { platform: { build: linux, target: linux } }));

const phases: Array<[string, () => void]> = [
  ['parse', () => texts.forEach((t) => parseDockerfile(t))],
  ['instructions', () => parsed.forEach((p, i) => parseInstructions(p, { text: texts[i]! }))],
  ['stage graph', () => instructions.forEach((x) => stageGraphFromInstructions(x, { platform: { build: linux, target: linux } }))],
  ['print outline', () => graphs.forEach((g) => printStageGraph(g, 'outline'))],
  ['end to end', () => texts.forEach((t) => {
    const x = parseInstructions(parseDockerfile(t), { text: t });
    stageGraphFromInstructions(x, { platform: { build: linux, target: linux } });
  })],
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

console.log(`frontend bench: ${texts.length} Dockerfiles (${(texts.reduce((n, t) => n + t.length, 0) / 1024).toFixed(0)} KiB), ${ROUNDS} rounds × ${REPEAT} passes`);
for (const [name, fn] of phases) {
  fn(); // warm up the JIT
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let k = 0; k < REPEAT; k++) fn();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    rates.push((texts.length * REPEAT) / seconds);
  }
  const m = median(rates);
  console.log(`${name.padEnd(14)} ${m.toFixed(0).padStart(8)} Dockerfiles/s  (${(1000 / m).toFixed(3)} ms each; min ${Math.min(...rates).toFixed(0)}, max ${Math.max(...rates).toFixed(0)})`);
}
