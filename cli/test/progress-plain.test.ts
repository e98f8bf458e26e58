import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { renderJsonEvent } from '../src/progress/json.js';
import { createProgressWriter, resolveMode } from '../src/progress/index.js';
import { renderPlain } from '../src/progress/plain.js';
import { DIGEST, failedBuild, successfulBuild } from './progress-fixtures.js';

describe('progress: plain renderer', () => {
  it('prints BuildKit plain blocks: #N header, timed output, CACHED, DONE, reasons, export, warnings, summary', () => {
    expect(renderPlain(successfulBuild())).to.equal([
      '',
      '#1 [numbers 1/2] FROM docker.io/library/busybox:latest',
      '#1 CACHED',
      '',
      '#2 [numbers 2/2] RUN seq 1 3',
      '#2 rebuilding: instruction changed: "seq 1 2" → "seq 1 3"',
      '#2 ...',
      '',
      '#3 [words 2/2] RUN printf "alpha"',
      '#3 ...',
      '',
      '#2 [numbers 2/2] RUN seq 1 3',
      '#2 0.123 1',
      '#2 0.123 2',
      '#2 0.200 3',
      '#2 DONE 0.3s',
      '',
      '#3 [words 2/2] RUN printf "alpha"',
      '#3 0.400 alpha',
      '#3 DONE 0.4s',
      '',
      '#4 [stage-2 2/2] COPY --from=numbers /numbers /data/',
      '#4 rebuilding: input "[numbers 2/2] RUN seq 1 3" changed',
      '#4 DONE 0.1s',
      '',
      '#5 exporting to image',
      '#5 exporting layers 0.2s done',
      `#5 exporting manifest ${DIGEST} done`,
      '#5 naming to docker.io/library/hello:latest done',
      '#5 DONE 0.2s',
      '',
      'WARN: JSONArgsRecommended: JSON arguments recommended for CMD (Dockerfile:9)',
      '',
      'FINISHED in 0.7s: 4 steps, 1 cached',
      '',
    ].join('\n'));
  });

  it('prints the failing step with its output and ERROR, then the failed summary', () => {
    expect(renderPlain(failedBuild())).to.equal([
      '',
      '#1 [1/2] FROM busybox',
      '#1 CACHED',
      '',
      '#2 [2/2] RUN false',
      '#2 0.100 about to fail',
      '#2 ERROR: process "/bin/sh -c false" did not complete successfully: exit code: 1',
      '',
      'FAILED after 0.1s: 1 step, 1 cached',
      '',
    ].join('\n'));
  });
});

describe('progress: json renderer', () => {
  it('writes one parseable event per line, as emitted', () => {
    const events = successfulBuild();
    const lines = events.map(renderJsonEvent).join('').trimEnd().split('\n');
    expect(lines).to.have.length(events.length);
    expect(lines.map((l) => JSON.parse(l))).to.deep.equal(JSON.parse(JSON.stringify(events)));
    expect(JSON.parse(lines[5]!)).to.include({ type: 'vertex.log', data: '1\n2\n' });
  });
});

describe('progress: writers', () => {
  const capture = (mode: Parameters<typeof createProgressWriter>[0], isTTY = false) => {
    const out = Object.assign(new PassThrough(), { isTTY, columns: 80, rows: 40 });
    const chunks: string[] = [];
    out.on('data', (c: Buffer) => chunks.push(c.toString()));
    const w = createProgressWriter(mode, out);
    for (const e of successfulBuild()) w.onEvent(e);
    w.close();
    return chunks.join('');
  };

  it('auto is tty on a terminal and plain elsewhere', () => {
    expect(resolveMode('auto', true)).to.equal('tty');
    expect(resolveMode('auto', false)).to.equal('plain');
    expect(capture('auto')).to.equal(renderPlain(successfulBuild()));
  });

  it('quiet writes nothing; json writes lines', () => {
    expect(capture('quiet')).to.equal('');
    expect(capture('json').trimEnd().split('\n')).to.have.length(successfulBuild().length);
  });

  it('tty writes the collapsed final frame on close', () => {
    const text = capture('tty', true);
    expect(text).to.include('[+] Building 0.7s (4/4) FINISHED');
    expect(text).to.include('\x1b[2K');
  });
});

describe('progress: plain renderer on interruption', () => {
  it('marks steps still running when the build fails as CANCELED', async () => {
    const { T0, NUMBERS } = await import('./progress-fixtures.js');
    const text = renderPlain([
      { type: 'vertex.started', time: T0, id: NUMBERS, name: '[2/2] RUN sleep 60' },
      { type: 'vertex.log', time: T0 + 42, id: NUMBERS, name: '[2/2] RUN sleep 60', stream: 'stdout', data: 'go\n' },
      { type: 'build.failed', time: T0 + 3600, durationMs: 3600, message: 'interrupted (SIGINT)' },
    ]);
    expect(text).to.equal('\n#1 [2/2] RUN sleep 60\n#1 0.042 go\n#1 CANCELED\n\nFAILED after 3.6s: 0 steps\n');
  });

  it('prints no FAILED footer for a build that failed before any step (a parse error): the error line says it', async () => {
    const { T0 } = await import('./progress-fixtures.js');
    expect(renderPlain([{ type: 'build.failed', time: T0, durationMs: 0, message: 'Dockerfile:2:1: unknown instruction: RUNN' }])).to.equal('');
  });
});
