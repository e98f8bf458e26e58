import { expect } from 'chai';
import { applyEvent, createModel } from '../src/progress/model.js';
import { renderTtyFrame, TAIL_LINES } from '../src/progress/tty-frame.js';
import { T0, failedBuild, successfulBuild } from './progress-fixtures.js';
import type { BuildEvent } from '@tsbuild/builder';

function modelAfter(events: BuildEvent[], count: number) {
  const model = createModel();
  for (const e of events.slice(0, count)) applyEvent(model, e);
  return model;
}

describe('progress: tty frame', () => {
  it('shows running steps with timers and their last output lines, cached steps marked', () => {
    const events = successfulBuild();
    const model = modelAfter(events, 8); // both RUNs running, #2 printed three lines, #3 has a partial one
    const lines = renderTtyFrame(model, T0 + 240, { width: 80 });
    expect(lines[0]).to.equal('[+] Building 0.2s (1/4)');
    expect(lines[1]).to.match(/^ => CACHED \[numbers 1\/2\] FROM docker\.io\/library\/busybox:latest +0\.0s$/);
    expect(lines[2]).to.match(/^ => \[numbers 2\/2\] RUN seq 1 3 +0\.2s$/);
    expect(lines.slice(3, 6)).to.deep.equal([' => => # 1', ' => => # 2', ' => => # 3']);
    expect(lines[6]).to.match(/^ => \[words 2\/2\] RUN printf "alpha" +0\.2s$/);
    expect(lines[7]).to.equal(' => => # alp');
    for (const l of lines) expect(l.length).to.be.at.most(80);
    expect(lines[1]!.length).to.equal(80); // timers are right-aligned
  });

  it('keeps only the last lines of a chatty step, cuts long lines to the width and strips control sequences', () => {
    const id = 'sha256:' + '1'.repeat(64);
    const model = createModel();
    applyEvent(model, { type: 'vertex.started', time: T0, id, name: 'RUN chatty' });
    const data = Array.from({ length: 20 }, (_, i) => `line ${i} \x1b[31mred\x1b[0m ${'x'.repeat(i === 19 ? 200 : 0)}`).join('\n') + '\n';
    applyEvent(model, { type: 'vertex.log', time: T0 + 5, id, name: 'RUN chatty', stream: 'stdout', data });
    const lines = renderTtyFrame(model, T0 + 10, { width: 60 });
    const tail = lines.filter((l) => l.startsWith(' => => # '));
    expect(tail).to.have.length(TAIL_LINES);
    expect(tail[0]).to.equal(' => => # line 14 red ');
    expect(tail.at(-1)!.length).to.equal(60);
    expect(lines.join('')).not.to.include('\x1b');
  });

  it('collapses to one line per step and the warnings at the end', () => {
    const events = successfulBuild();
    const lines = renderTtyFrame(modelAfter(events, events.length), T0 + 10_000, { width: 100 });
    expect(lines[0]).to.equal('[+] Building 0.7s (4/4) FINISHED');
    expect(lines.filter((l) => l.includes('=> =>'))).to.deep.equal([]);
    expect(lines.filter((l) => l.startsWith(' => '))).to.have.length(5); // 4 steps and the export
    expect(lines.find((l) => l.includes('COPY --from'))).to.match(/0\.1s$/);
    expect(lines.slice(-2)).to.deep.equal([' 1 warning found:', ' - JSONArgsRecommended: JSON arguments recommended for CMD (Dockerfile:9)']);
  });

  it('marks a failed build and keeps the failing step’s output', () => {
    const lines = renderTtyFrame(modelAfter(failedBuild(), 99), T0 + 1000);
    expect(lines[0]).to.equal('[+] Building 0.1s (1/2) FAILED');
    expect(lines.find((l) => l.includes('ERROR'))).to.match(/^ => ERROR \[2\/2\] RUN false +0\.1s$/);
    expect(lines).to.include(' => => # about to fail');
  });
});

describe('progress: tty frame on interruption', () => {
  it('shows a step left running as CANCELED with its timer stopped at the build’s end', () => {
    const id = 'sha256:' + '2'.repeat(64);
    const model = createModel();
    applyEvent(model, { type: 'vertex.started', time: T0, id, name: 'RUN sleep 60' });
    applyEvent(model, { type: 'build.failed', time: T0 + 1500, durationMs: 1500, message: 'interrupted' });
    const lines = renderTtyFrame(model, T0 + 99_000, { width: 60 });
    expect(lines[0]).to.equal('[+] Building 1.5s (0/1) FAILED');
    expect(lines[1]).to.match(/^ => CANCELED RUN sleep 60 +1\.5s$/);
  });
});
