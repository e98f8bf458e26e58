import { expect } from 'chai';
import { explainLines } from '../src/progress/explain-lines.js';
import { renderPlain } from '../src/progress/plain.js';

describe('progress: explanations shown to people', () => {
  const id = `sha256:${'a'.repeat(64)}` as const;
  it('a first build of a step explains nothing; a real miss says why', () => {
    const first = { type: 'vertex.explain', time: 0, id, name: '[1/2] RUN x', reasons: [{ kind: 'no-previous-build' }], text: ['no previous build of this step'] } as const;
    expect(explainLines(first)).to.deep.equal([]);
    const changed = { ...first, reasons: [{ kind: 'content', path: 'a.txt', change: 'changed' }], text: ['file "a.txt" changed'] } as const;
    expect(explainLines(changed as never)).to.deep.equal(['file "a.txt" changed']);
  });

  it('plain output has no rebuilding line for a first build', () => {
    const events = [
      { type: 'build.plan', time: 0, vertices: [{ id, name: '[1/2] RUN x', inputs: [] }] },
      { type: 'vertex.explain', time: 1, id, name: '[1/2] RUN x', reasons: [{ kind: 'no-previous-build' }], text: ['no previous build of this step'] },
      { type: 'vertex.started', time: 1, id, name: '[1/2] RUN x' },
      { type: 'vertex.completed', time: 2, id, name: '[1/2] RUN x', durationMs: 1 },
    ];
    const out = renderPlain(events as never);
    expect(out).to.match(/#1 \[1\/2\] RUN x/);
    expect(out).to.not.match(/rebuilding/);
  });
});
