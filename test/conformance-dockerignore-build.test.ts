/**
 * patternmatcher-cases.json `buildkitIntegration`: BuildKit's own end-to-end
 * .dockerignore tests, run through `tsbuild build` (FROM scratch, COPY . .,
 * exported to a local directory).
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tsbuild } from '../cli/test/support.js';
import { readConformance, requireConformance } from './support/conformance.js';
import { tempDir } from './support/fixtures.js';

interface Case1 { dockerfile: string; dockerignore: string; contextFiles: Record<string, string>; expectedPresentAfterCopy: Record<string, string>; expectedAbsentAfterCopy: string[] }
interface Case3 { cases: Array<{ dockerfileName: string; ignoreFileName: string; ignoreContent: string; present: string[]; absent: string[] }>; contextFiles: string[] }

describe('conformance: BuildKit .dockerignore integration cases', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let cases: [Case1, { dockerfile: string; dockerignore: string }, Case3];
  before(function () {
    requireConformance(this);
    cases = JSON.parse(readConformance('patternmatcher/patternmatcher-cases.json')).buildkitIntegration;
    tmp = tempDir('tsbuild-ignore-');
  });
  after(() => tmp?.cleanup());

  const build = async (ctx: string, out: string, ...flags: string[]) =>
    tsbuild(join(tmp.path, 'store'), 'build', '--progress', 'quiet', '-o', `type=local,dest=${out}`, ...flags, ctx);

  it('testDockerignore: ignored files and the ! exception', async () => {
    const c = cases[0];
    const ctx = join(tmp.path, 'c1');
    mkdirSync(ctx);
    for (const [name, content] of Object.entries(c.contextFiles)) {
      const text = content === '<the dockerfile above>' ? c.dockerfile : content === '<the dockerignore above>' ? c.dockerignore : content;
      writeFileSync(join(ctx, name), text);
    }
    const out = join(tmp.path, 'out1');
    const r = await build(ctx, out);
    expect(r.code, r.stderr).to.equal(0);
    for (const [name, content] of Object.entries(c.expectedPresentAfterCopy)) expect(readFileSync(join(out, name), 'utf8')).to.equal(content);
    for (const name of c.expectedAbsentAfterCopy) expect(existsSync(join(out, name)), name).to.equal(false);
  });

  it('testDockerignoreInvalid: a lone "!" fails the build', async () => {
    const c = cases[1];
    const ctx = join(tmp.path, 'c2');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), c.dockerfile);
    writeFileSync(join(ctx, '.dockerignore'), c.dockerignore);
    const r = await build(ctx, join(tmp.path, 'out2'));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^error: .*!/m);
  });

  it('testDockerignoreOverride: <Dockerfile>.dockerignore wins', async () => {
    const c = cases[2];
    for (const [i, k] of c.cases.entries()) {
      const ctx = join(tmp.path, `c3-${i}`);
      mkdirSync(ctx);
      for (const name of c.contextFiles) writeFileSync(join(ctx, name), name.startsWith('Dockerfile') && !name.endsWith('.dockerignore') ? 'FROM scratch\nCOPY . .\n' : `${name}-contents`);
      writeFileSync(join(ctx, k.ignoreFileName), k.ignoreContent);
      writeFileSync(join(ctx, '.dockerignore'), 'foo\nbar\n'); // overridden: would exclude both
      const out = join(tmp.path, `out3-${i}`);
      const r = await build(ctx, out, '-f', join(ctx, k.dockerfileName));
      expect(r.code, r.stderr).to.equal(0);
      for (const name of k.present) expect(existsSync(join(out, name)), name).to.equal(true);
      for (const name of k.absent) expect(existsSync(join(out, name)), name).to.equal(false);
    }
  });
});
