import { expect } from 'chai';
import { applyEvent, createModel } from '../src/progress/model.js';
import { DEFAULT_PALETTE, paletteFromEnv } from '../src/progress/colors.js';
import { renderTtyFrame, TAIL_LINES } from '../src/progress/tty-frame.js';
import { DIGEST, T0, failedBuild, successfulBuild } from './progress-fixtures.js';
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
    expect(lines[3]).to.equal(' => => rebuilding: instruction changed: "seq 1 2" → "seq 1 3"');
    expect(lines.slice(4, 7)).to.deep.equal([' => => # 1', ' => => # 2', ' => => # 3']);
    expect(lines[7]).to.match(/^ => \[words 2\/2\] RUN printf "alpha" +0\.2s$/);
    expect(lines[8]).to.equal(' => => # alp');
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
    expect(lines.filter((l) => l.includes('=> => #'))).to.deep.equal([]); // no output tails, the why lines stay
    expect(lines.filter((l) => l.includes('=> => rebuilding:'))).to.have.length(2);
    expect(lines).to.include(` => => exporting manifest ${DIGEST}`);
    expect(lines.filter((l) => l.startsWith(' => ') && !l.startsWith(' => => '))).to.have.length(5); // 4 steps and the export
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

describe('progress: tty frame, why and colour', () => {
  const id = 'sha256:' + '3'.repeat(64);
  const built = () => {
    const model = createModel();
    applyEvent(model, { type: 'vertex.explain', time: T0, id, name: '[2/2] COPY input.txt /', reasons: [{ kind: 'content', path: 'input.txt', change: 'changed' }], text: ['file "input\x1b]0;x\x07.txt" changed'] } as never);
    applyEvent(model, { type: 'vertex.started', time: T0, id, name: '[2/2] COPY input.txt /' });
    return model;
  };

  it('shows why a step ran under it, live and in the final frame, escaped', () => {
    const model = built();
    expect(renderTtyFrame(model, T0 + 10)).to.include(' => => rebuilding: file "input\\x1b]0;x\\x07.txt" changed');
    applyEvent(model, { type: 'vertex.completed', time: T0 + 50, id, name: '[2/2] COPY input.txt /', durationMs: 50 });
    applyEvent(model, { type: 'build.completed', time: T0 + 60, durationMs: 60, digest: DIGEST, tags: ['docker.io/library/x:latest'] });
    const lines = renderTtyFrame(model, T0 + 99);
    expect(lines[2]).to.equal(' => => rebuilding: file "input\\x1b]0;x\\x07.txt" changed');
    expect(lines.slice(-2)).to.deep.equal([` => => exporting manifest ${DIGEST}`, ' => => naming to docker.io/library/x:latest']);
    expect(lines.join('')).not.to.include('\x1b');
  });

  it('colours completed steps blue, errors red, canceled yellow, output faint; none without colour', () => {
    const model = built();
    applyEvent(model, { type: 'vertex.log', time: T0 + 5, id, name: 'x', stream: 'stdout', data: 'out\n' });
    expect(renderTtyFrame(model, T0 + 10, { palette: DEFAULT_PALETTE })[1]).not.to.include('\x1b['); // running: plain
    expect(renderTtyFrame(model, T0 + 10, { palette: DEFAULT_PALETTE })).to.include(`\x1b[2m => => # out\x1b[0m`);
    applyEvent(model, { type: 'build.failed', time: T0 + 20, durationMs: 20, message: 'interrupted' });
    expect(renderTtyFrame(model, T0 + 30, { palette: DEFAULT_PALETTE })[1]).to.match(/^\x1b\[33m => CANCELED .*\x1b\[0m$/);
    const failed = renderTtyFrame(modelAfter(failedBuild(), 99), T0 + 1000, { palette: DEFAULT_PALETTE });
    expect(failed.find((l) => l.includes('ERROR'))).to.match(/^\x1b\[31m => ERROR /);
    const ok = successfulBuild();
    const done = renderTtyFrame(modelAfter(ok, ok.length), T0 + 10_000, { palette: DEFAULT_PALETTE });
    expect(done.find((l) => l.includes('CACHED'))).to.match(/^\x1b\[34m => CACHED .*\x1b\[0m$/);
    expect(renderTtyFrame(modelAfter(ok, ok.length), T0 + 10_000).join('')).not.to.include('\x1b');
  });

  it('takes BuildKit’s palette from the environment: NO_COLOR, BUILDKIT_COLORS names and r,g,b', () => {
    expect(paletteFromEnv({ NO_COLOR: '1' })).to.equal(undefined);
    expect(paletteFromEnv({ NO_COLOR: '' })).to.deep.equal(DEFAULT_PALETTE); // only a non-empty NO_COLOR counts (init.go)
    const p = paletteFromEnv({ BUILDKIT_COLORS: 'run=green:ERROR=light-red:cancel=255,165,0:bogus=red:warning=nope' })!;
    expect(p.run).to.equal('\x1b[32m');
    expect(p.error).to.equal('\x1b[91m');
    expect(p.cancel).to.equal('\x1b[38;5;214m'); // 16 + 36·5 + 6·3 + 0
    expect(p.warning).to.equal(DEFAULT_PALETTE.warning);
  });
});
