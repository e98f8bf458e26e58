/**
 * `build --call outline|targets|check` in the text of BuildKit's printers
 * (frontend/subrequests/{outline,targets,lint}) and, with format=json, its
 * structs; `--progress rawjson` as BuildKit's rawJSONDisplay writes
 * client.SolveStatus lines.
 */
import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { tempDir } from '../../test/support/fixtures.js';
import { createProgressWriter } from '../src/progress/index.js';
import { createRawJsonRenderer } from '../src/progress/rawjson.js';
import { FROM, NUMBERS, successfulBuild, T0 } from './progress-fixtures.js';
import { tsbuild } from './support.js';

const DOCKERFILE = [
  'ARG BASE=busybox',
  'FROM ${BASE} AS base',
  'ARG VERSION=1.0',
  'RUN --mount=type=secret,id=token,required echo hi',
  'FROM base as final',
  'ARG COLOR',
  'RUN --mount=type=ssh echo $COLOR',
  '',
].join('\n');

describe('build --call (BuildKit subrequests)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let ctx: string;
  const call = (...argv: string[]) => tsbuild('/nonexistent-root', 'build', ...argv, ctx);
  before(() => {
    tmp = tempDir('tsbuild-call-');
    ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), DOCKERFILE);
  });
  after(() => tmp.cleanup());

  it('outline: the target, then the BUILD ARG, SECRET and SSH tables of every stage it reaches (PrintOutline)', async () => {
    const r = await call('--call', 'outline');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal([
      'TARGET: final', '',
      'BUILD ARG   VALUE   DESCRIPTION', 'VERSION     1.0     ', 'COLOR               ', '',
      'SECRET   REQUIRED', 'token    true', '',
      'SSH       REQUIRED', 'default   ', '', '',
    ].join('\n'));
    const base = await call('--call', 'outline', '--target', 'base', '--build-arg', 'VERSION=2');
    expect(base.stdout).to.equal(['TARGET: base', '', 'BUILD ARG   VALUE   DESCRIPTION', 'VERSION     2       ', '', 'SECRET   REQUIRED', 'token    true', '', ''].join('\n'));
  });

  it('outline,format=json: the Outline struct, sources base64', async () => {
    const r = await call('--call', 'outline,format=json');
    expect(r.code, r.stderr).to.equal(0);
    const o = JSON.parse(r.stdout);
    expect(o.name).to.equal('final');
    expect(o.args.map((a: { name: string; value?: string }) => [a.name, a.value])).to.deep.equal([['VERSION', '1.0'], ['COLOR', undefined]]);
    expect(o.args[0].location).to.deep.equal({ ranges: [{ start: { line: 3, character: 0 }, end: { line: 3, character: 15 } }] });
    expect(o.secrets).to.deep.equal([{ name: 'token', required: true, location: { ranges: [{ start: { line: 4, character: 0 }, end: { line: 4, character: 49 } }] } }]);
    expect(o.ssh.map((s: { name: string }) => s.name)).to.deep.equal(['default']);
    expect(Buffer.from(o.sources[0], 'base64').toString()).to.equal(DOCKERFILE);
  });

  it('targets: every stage, the last one the default (PrintTargets), and its JSON', async () => {
    const r = await call('--call', 'targets');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal('TARGET          DESCRIPTION\nbase            \nfinal (default) \n');
    const l = JSON.parse((await call('--call', 'targets,format=json')).stdout);
    expect(l.targets.map((t: object) => ({ ...t, location: undefined }))).to.deep.equal([
      { name: 'base', base: '${BASE}', location: undefined },
      { name: 'final', default: true, base: 'base', location: undefined },
    ]);
  });

  it('check: each violation with its rule, URL, detail and source lines (PrintLintViolations), exit 1; clean is exit 0', async () => {
    const r = await call('--call', 'check');
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal([
      '', 'WARNING: FromAsCasing - https://docs.docker.com/go/dockerfile/rule/from-as-casing/',
      "'as' and 'FROM' keywords' casing do not match",
      'Dockerfile:5', '--------------------',
      '   3 |     ARG VERSION=1.0',
      '   4 |     RUN --mount=type=secret,id=token,required echo hi',
      '   5 | >>> FROM base as final',
      '   6 |     ARG COLOR',
      '   7 |     RUN --mount=type=ssh echo $COLOR',
      '--------------------', '',
    ].join('\n'));
    const json = JSON.parse((await call('--call', 'check,format=json')).stdout);
    expect(json.warnings.map((w: { ruleName: string }) => w.ruleName)).to.deep.equal(['FromAsCasing']);
    expect(json.sources[0].filename).to.equal('Dockerfile');

    const clean = join(tmp.path, 'clean');
    mkdirSync(clean);
    writeFileSync(join(clean, 'Dockerfile'), 'FROM busybox\n');
    const ok = await tsbuild('/nonexistent-root', 'build', '--call', 'check', clean);
    expect([ok.code, ok.stdout]).to.deep.equal([0, '']);
  });

  it('refuses a bad --call and --call with --print or another --check', async () => {
    expect((await call('--call', 'bogus')).stderr).to.match(/^error: --call: invalid value "bogus" \(build, outline, targets, check\)\n/);
    expect((await call('--call', 'outline,format=yaml')).stderr).to.match(/^error: --call: invalid option "format=yaml"/);
    expect((await call('--call', 'outline', '--print', 'dot')).stderr).to.match(/^error: --print and --call cannot be combined/);
    expect((await call('--call', 'targets', '--check')).stderr).to.match(/^error: --check is --call check: it cannot be combined with --call targets/);
  });
});

describe('--progress rawjson (BuildKit SolveStatus lines)', () => {
  const decode = (b64: string) => Buffer.from(b64, 'base64').toString();
  it('writes one SolveStatus per event: vertexes with inputs and times, base64 logs on stream 1/2, warnings', () => {
    const r = createRawJsonRenderer();
    const statuses = successfulBuild().map((e) => r.push(e)).filter(Boolean).map((l) => JSON.parse(l));
    const iso = (ms: number) => new Date(T0 + ms).toISOString();
    expect(statuses[0].vertexes).to.have.length(4);
    expect(statuses[1]).to.deep.equal({ vertexes: [{ digest: FROM, name: '[numbers 1/2] FROM docker.io/library/busybox:latest', started: iso(10), completed: iso(10), cached: true }] });
    const done = statuses.find((s) => s.vertexes?.[0].digest === NUMBERS && s.vertexes[0].completed);
    expect(done.vertexes[0]).to.deep.equal({ digest: NUMBERS, inputs: [FROM], name: '[numbers 2/2] RUN seq 1 3', started: iso(20), completed: iso(320) });
    const log = statuses.find((s) => s.logs)!.logs[0];
    expect([log.vertex, log.stream, decode(log.data)]).to.deep.equal([NUMBERS, 1, '1\n2\n']);
    const warning = statuses.find((s) => s.warnings)!.warnings[0];
    expect(decode(warning.short)).to.equal('JSONArgsRecommended: JSON arguments recommended for CMD');
    // vertex.explain and build.completed have no SolveStatus form.
    expect(statuses).to.have.length(successfulBuild().length - 3);
  });

  it('is a --progress mode of its own, never redrawn like tty', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const w = createProgressWriter('rawjson', Object.assign(out, { isTTY: true }));
    for (const e of successfulBuild()) w.onEvent(e);
    w.close();
    expect(text.trimEnd().split('\n').every((l) => l.startsWith('{"'))).to.equal(true);
  });
});
