import { expect } from 'chai';
import { ExecError, isFailedPrecondition } from '@tsbuild/core';
import { CanceledError, MemoryCacheStorage, Solver, VertexError, isCanceled, type SolveEvent, type Vertex } from './solver-imports.js';
import { Counters, Latch, makeGraph } from './solver-fixtures.js';

/** Lets every pending microtask and I/O callback run, so a vertex that could start has started. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** sum of slow(const i) for i in 1..n, built as a left fold of adds. */
function fanIn(g: ReturnType<typeof makeGraph>, n: number, latch: Latch): Vertex {
  let acc: Vertex = g.slow(g.const(1), latch, '1');
  for (let i = 2; i <= n; i++) acc = g.add(acc, g.slow(g.const(i), latch, `${i}`));
  return acc;
}

describe('solver: concurrency', () => {
  let counters: Counters;
  let g: ReturnType<typeof makeGraph>;
  beforeEach(() => {
    counters = new Counters();
    g = makeGraph(counters);
  });

  it('runs independent branches at the same time', async () => {
    const latch = new Latch();
    const solver = new Solver({ cache: new MemoryCacheStorage(), limits: { exec: 8 } });
    const done = solver.solve(fanIn(g, 4, latch));
    const slow = (n: string) => n.startsWith('slow');
    await counters.until(() => [...counters.active].filter(slow).length === 4);
    latch.release();
    expect((await done).result.value).to.equal(10);
    expect(counters.maxActive(slow)).to.equal(4);
  });

  it('never runs more ops of a resource class than its limit', async () => {
    const latch = new Latch();
    const solver = new Solver({ cache: new MemoryCacheStorage(), limits: { exec: 2 } });
    const done = solver.solve(fanIn(g, 5, latch));
    await counters.until(() => counters.running === 2);
    await settle();
    expect(counters.running).to.equal(2);
    latch.release();
    expect((await done).result.value).to.equal(15);
    expect(counters.maxRunning).to.equal(2);
  });

  it('a vertex queued for a slot is started only when it holds one, and its duration leaves the wait out', async () => {
    const latch = new Latch();
    const solver = new Solver({ cache: new MemoryCacheStorage(), limits: { exec: 1 } });
    const events: SolveEvent[] = [];
    const done = solver.solve(g.add(g.slow(g.const(1), latch, 'a'), g.slow(g.const(2), latch, 'b')), { onEvent: (e) => events.push(e) });
    const slow = (n: string) => n.startsWith('slow');
    await counters.until(() => [...counters.active].filter(slow).length === 1);
    await settle();
    const startedSlow = () => events.filter((e) => e.type === 'vertex.started' && slow(e.vertex.name)).map((e) => e.vertex.name);
    expect(startedSlow()).to.have.length(1); // the other waits for the slot, not yet started
    await new Promise((resolve) => setTimeout(resolve, 150));
    latch.release();
    expect((await done).result.value).to.equal(3);
    const [, second] = startedSlow();
    const waited = events.find((e) => e.type === 'vertex.completed' && e.vertex.name === second);
    // It ran once the latch opened: its duration is not the 150 ms it spent queued before.
    expect(waited?.type === 'vertex.completed' && waited.durationMs).to.be.below(150);
  });

  it('io-class vertices have their own limiter', async () => {
    const latch = new Latch();
    const solver = new Solver({ cache: new MemoryCacheStorage(), limits: { exec: 1, io: 3 } });
    const io = (i: number) =>
      g.vertex({ name: `io ${i}`, definition: { op: 'io', i }, resourceClass: 'io', exec: () => latch.opened.then(() => i) });
    const done = solver.solve(g.add(g.add(io(1), io(2)), io(3)));
    await counters.until(() => counters.running === 3);
    latch.release();
    expect((await done).result.value).to.equal(6);
    expect(counters.maxRunning).to.equal(3);
  });

  it('runs identical vertices of one solve once', async () => {
    const latch = new Latch();
    const solver = new Solver({ cache: new MemoryCacheStorage() });
    // two separately built but identical subgraphs
    const done = solver.solve(g.add(g.slow(g.const(5), latch), g.slow(g.const(5), latch)));
    await counters.until(() => counters.active.has('slow(const 5)'));
    await settle();
    latch.release();
    expect((await done).result.value).to.equal(10);
    expect(counters.execsOf('slow(const 5)')).to.equal(1);
    expect(counters.execsOf('const 5')).to.equal(1);
  });

  it('runs identical vertices of two concurrent solves once, and both get the result', async () => {
    const latch = new Latch();
    const solver = new Solver({ cache: new MemoryCacheStorage() });
    const first = solver.solve(g.neg(g.slow(g.const(6), latch)));
    await counters.until(() => counters.active.has('slow(const 6)'));
    const secondEvents: SolveEvent[] = [];
    const second = solver.solve(g.neg(g.slow(g.const(6), latch)), { onEvent: (e) => secondEvents.push(e) });
    await settle();
    latch.release();
    const [a, b] = await Promise.all([first, second]);
    expect(a.result.value).to.equal(-6);
    expect(b.result.value).to.equal(-6);
    expect(counters.execsOf('slow(const 6)')).to.equal(1);
    expect(counters.execsOf('neg(slow(const 6))')).to.equal(1);
    expect(b.vertices.find((v) => v.vertex.name === 'slow(const 6)')?.state).to.equal('shared');
    // the joining build still sees the shared vertex complete
    expect(secondEvents.some((e) => e.type === 'vertex.completed' && e.vertex.name === 'slow(const 6)')).to.equal(true);
  });

  it('canceling one of two solves sharing a vertex does not abort it for the other', async () => {
    const latch = new Latch();
    const solver = new Solver({ cache: new MemoryCacheStorage() });
    const ac = new AbortController();
    const first = solver.solve(g.slow(g.const(8), latch), { signal: ac.signal });
    await counters.until(() => counters.active.has('slow(const 8)'));
    const second = solver.solve(g.slow(g.const(8), latch));
    await settle();
    ac.abort();
    expect(await rejection(first)).to.be.instanceOf(CanceledError);
    expect(counters.aborted.has('slow(const 8)')).to.equal(false);
    latch.release();
    expect((await second).result.value).to.equal(8);
    expect(counters.execsOf('slow(const 8)')).to.equal(1);
  });
});

describe('solver: failure and cancellation', () => {
  let counters: Counters;
  let g: ReturnType<typeof makeGraph>;
  beforeEach(() => {
    counters = new Counters();
    g = makeGraph(counters);
  });

  it('the first failure cancels running siblings and the error names the failing vertex', async () => {
    const latch = new Latch();
    const solver = new Solver({ cache: new MemoryCacheStorage() });
    const events: SolveEvent[] = [];
    const gate = new Latch();
    const failing = g.vertex({ name: '[stage 1/2] RUN false', definition: { op: 'fail' }, exec: () => gate.opened.then(() => Promise.reject(new Error('exit code: 1'))) });
    const target = g.neg(g.add(g.slow(g.const(1), latch), failing));
    const done = solver.solve(target, { onEvent: (e) => events.push(e) });
    await counters.until(() => counters.active.has('slow(const 1)') && counters.active.has('[stage 1/2] RUN false'));
    gate.release();
    const err = await rejection(done);
    expect(err).to.be.instanceOf(VertexError);
    expect((err as VertexError).message).to.equal('[stage 1/2] RUN false: exit code: 1');
    expect((err as VertexError).vertex.name).to.equal('[stage 1/2] RUN false');
    expect((err as VertexError).cause).to.be.instanceOf(Error).with.property('message', 'exit code: 1');
    expect(counters.aborted.has('slow(const 1)')).to.equal(true);
    expect(counters.execsOf('add(slow(const 1), [stage 1/2] RUN false)')).to.equal(0);
    expect(events.filter((e) => e.type === 'vertex.failed').map((e) => e.vertex.name)).to.include('[stage 1/2] RUN false');
    latch.release();
  });

  it('the vertex error keeps the category and code-bearing cause of a typed op error', async () => {
    const solver = new Solver({ cache: new MemoryCacheStorage() });
    const run = g.vertex({ name: 'RUN exit 3', definition: { op: 'exit' }, exec: () => Promise.reject(new ExecError(3, ['sh', '-c', 'exit 3'])) });
    const err = await rejection(solver.solve(run));
    expect(err).to.be.instanceOf(VertexError);
    expect(isFailedPrecondition(err)).to.equal(true);
    expect((err as VertexError).code).to.equal('SOLVER_VERTEX_FAILED');
    expect((err as VertexError).cause).to.be.instanceOf(ExecError).with.property('exitCode', 3);
  });

  it('a failing cacheMap is named too', async () => {
    const solver = new Solver({ cache: new MemoryCacheStorage() });
    const bad: Vertex = {
      ...g.const(1),
      name: 'COPY . /src',
      op: { cacheMap: () => Promise.reject(new Error('ENOENT: context')), exec: async () => ({}) },
    };
    const err = await rejection(solver.solve(g.neg(bad)));
    expect(err).to.be.instanceOf(VertexError).with.property('message', 'COPY . /src: ENOENT: context');
  });

  it('the caller aborting rejects with CanceledError, aborts running ops and starts no more', async () => {
    const latch = new Latch();
    const solver = new Solver({ cache: new MemoryCacheStorage(), limits: { exec: 1 } });
    const ac = new AbortController();
    const done = solver.solve(g.neg(g.add(g.slow(g.const(1), latch, 'a'), g.slow(g.const(2), latch, 'b'))), { signal: ac.signal });
    await counters.until(() => [...counters.active].some((n) => n.startsWith('slow')));
    const running = [...counters.active].find((n) => n.startsWith('slow'))!;
    ac.abort();
    const err = await rejection(done);
    expect(err).to.be.instanceOf(CanceledError);
    expect(isCanceled(err)).to.equal(true);
    expect(counters.aborted.has(running)).to.equal(true);
    latch.release();
    await settle();
    // the queued slow vertex and the dependents never started
    expect([...counters.execs.keys()].filter((n) => n.startsWith('slow'))).to.deep.equal([running]);
    expect(counters.execsOf('neg(add(slowa(const 1), slowb(const 2)))')).to.equal(0);
  });

  it('a solve with an already-aborted signal executes nothing', async () => {
    const solver = new Solver({ cache: new MemoryCacheStorage() });
    const err = await rejection(solver.solve(g.const(1), { signal: AbortSignal.abort() }));
    expect(err).to.be.instanceOf(CanceledError);
    expect(counters.totalExecs).to.equal(0);
  });

  it('a failed vertex is not cached: the next solve runs it again', async () => {
    const solver = new Solver({ cache: new MemoryCacheStorage() });
    let attempts = 0;
    const flaky = () =>
      g.vertex({ name: 'flaky', definition: { op: 'flaky' }, exec: async () => (++attempts === 1 ? Promise.reject(new Error('once')) : 9) });
    expect(await rejection(solver.solve(flaky()))).to.be.instanceOf(VertexError);
    expect((await solver.solve(flaky())).result.value).to.equal(9);
    expect(attempts).to.equal(2);
  });
});
