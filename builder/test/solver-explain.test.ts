import { expect } from 'chai';
import { MemoryCacheStorage, Solver, type MissReason, type SolveEvent, type Vertex } from './solver-imports.js';
import { Counters, makeGraph } from './solver-fixtures.js';

describe('solver: explainable misses', () => {
  let counters: Counters;
  let g: ReturnType<typeof makeGraph>;
  let cache: MemoryCacheStorage;
  let solver: Solver;
  beforeEach(() => {
    counters = new Counters();
    g = makeGraph(counters);
    cache = new MemoryCacheStorage();
    solver = new Solver({ cache });
  });

  /** Solves and returns the reasons explained for each vertex, by name. */
  async function explained(target: Vertex, noCache = false): Promise<Record<string, MissReason[]>> {
    const events: SolveEvent[] = [];
    await solver.solve(target, { onEvent: (e) => events.push(e), noCache });
    const out: Record<string, MissReason[]> = {};
    for (const e of events) if (e.type === 'vertex.explain') out[e.vertex.name] = e.reasons;
    return out;
  }

  const run = (definition: Record<string, unknown>, content?: Record<string, string>, inputs: Vertex[] = []) =>
    g.vertex({
      name: '[stage 1/1] RUN make',
      explainId: 'Dockerfile#default#0#3',
      definition,
      inputs,
      ...(content ? { content } : {}),
      exec: async (xs) => xs.reduce((a, b) => a + b, 1),
    });

  it('says "no previous build" the first time a step runs', async () => {
    expect(await explained(run({ instruction: 'RUN make' }))).to.deep.equal({ '[stage 1/1] RUN make': [{ kind: 'no-previous-build' }] });
  });

  it('names the definition fields that changed, old and new (instruction, build arg, env)', async () => {
    await solver.solve(run({ instruction: 'RUN make', args: { VERSION: '1' }, env: { CC: 'gcc', A: 'x' } }));
    const reasons = await explained(run({ instruction: 'RUN make all', args: { VERSION: '2' }, env: { CC: 'gcc' } }));
    expect(reasons['[stage 1/1] RUN make']).to.deep.equal([
      { kind: 'definition', field: 'args.VERSION', old: '1', new: '2' },
      { kind: 'definition', field: 'env.A', old: 'x', new: undefined },
      { kind: 'definition', field: 'instruction', old: 'RUN make', new: 'RUN make all' },
    ]);
  });

  it('names the content paths added, removed and changed', async () => {
    const def = { instruction: 'COPY . /src' };
    await solver.solve(run(def, { 'src/a.c': 'sha256:a1', 'src/b.c': 'sha256:b1', 'Makefile': 'sha256:m1' }));
    const reasons = await explained(run(def, { 'src/a.c': 'sha256:a2', 'Makefile': 'sha256:m1', 'src/c.c': 'sha256:c1' }));
    expect(reasons['[stage 1/1] RUN make']).to.deep.equal([
      { kind: 'content', path: 'src/a.c', change: 'changed', old: 'sha256:a1', new: 'sha256:a2' },
      { kind: 'content', path: 'src/b.c', change: 'removed', old: 'sha256:b1' },
      { kind: 'content', path: 'src/c.c', change: 'added', new: 'sha256:c1' },
    ]);
  });

  it('names the input vertex that changed', async () => {
    const def = { instruction: 'RUN make' };
    const first = await solver.solve(run(def, undefined, [g.const(1, 'Dockerfile#default#0#1'), g.const(10)]));
    const events: SolveEvent[] = [];
    await solver.solve(run(def, undefined, [g.const(2, 'Dockerfile#default#0#1'), g.const(10)]), { onEvent: (e) => events.push(e) });
    const reasons = Object.fromEntries(events.flatMap((e) => (e.type === 'vertex.explain' ? [[e.vertex.name, e.reasons]] : [])));
    expect(reasons['const 2']).to.deep.equal([{ kind: 'definition', field: 'n', old: 1, new: 2 }]);
    const step = reasons['[stage 1/1] RUN make'] as MissReason[];
    expect(step).to.have.length(1);
    expect(step[0]).to.deep.include({ kind: 'input', index: 0, name: 'const 2', change: 'changed', explainId: 'Dockerfile#default#0#1' });
    const oldInputKey = first.vertices.find((v) => v.vertex.name === 'const 1')!.key;
    expect(step[0]).to.have.property('oldKey', oldInputKey);
  });

  it('names an added input', async () => {
    const def = { instruction: 'RUN make' };
    await solver.solve(run(def, undefined, [g.const(1)]));
    const reasons = await explained(run(def, undefined, [g.const(1), g.const(2)]));
    expect(reasons['[stage 1/1] RUN make']).to.have.length(1);
    expect(reasons['[stage 1/1] RUN make']![0]).to.deep.include({ kind: 'input', index: 1, name: 'const 2', change: 'added' });
  });

  it('says "--no-cache" when the cache was bypassed on purpose', async () => {
    await solver.solve(run({ instruction: 'RUN make' }));
    expect(await explained(run({ instruction: 'RUN make' }), true)).to.deep.equal({ '[stage 1/1] RUN make': [{ kind: 'no-cache' }] });
  });

  it('compares against the build last used, including a cache hit', async () => {
    await solver.solve(run({ instruction: 'RUN make', args: { V: '1' } }));
    await solver.solve(run({ instruction: 'RUN make', args: { V: '2' } }));
    await solver.solve(run({ instruction: 'RUN make', args: { V: '1' } })); // hit
    expect(counters.totalExecs).to.equal(2);
    const reasons = await explained(run({ instruction: 'RUN make', args: { V: '3' } }));
    expect(reasons['[stage 1/1] RUN make']).to.deep.equal([{ kind: 'definition', field: 'args.V', old: '1', new: '3' }]);
  });

  it('says the previous record is gone when it was garbage collected', async () => {
    const first = await solver.solve(run({ instruction: 'RUN make', args: { V: '1' } }));
    await cache.delete(first.key);
    const reasons = await explained(run({ instruction: 'RUN make', args: { V: '2' } }));
    expect(reasons['[stage 1/1] RUN make']).to.deep.equal([{ kind: 'previous-record-gone', key: first.key }]);
  });

  it('emits no explanation for cache hits or for vertices without an explain id', async () => {
    await solver.solve(g.neg(run({ instruction: 'RUN make' })));
    expect(await explained(g.neg(run({ instruction: 'RUN make' })))).to.deep.equal({});
    const fresh = await explained(g.neg(g.const(99)));
    expect(fresh).to.deep.equal({});
    expect(counters.execsOf('neg(const 99)')).to.equal(1);
  });
});
