/**
 * Issue 5: a canceled or failed solve settles only after every op it started
 * has settled — an op may take a while to react to its signal (kill a
 * container, unmount, remove a temp snapshot) and the caller must not move on
 * (close the worker, delete the lease) before it has. A solve leaving an op
 * that another solve still waits on is rejected at once; the op goes on.
 */
import { expect } from 'chai';
import { CanceledError, MemoryCacheStorage, Solver, VertexError, type Vertex } from './solver-imports.js';
import { Counters, Latch, makeGraph } from './solver-fixtures.js';

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('solver: a canceled solve settles after its ops (issue 5)', () => {
  let counters: Counters;
  let g: ReturnType<typeof makeGraph>;
  let order: string[];
  beforeEach(() => {
    counters = new Counters();
    g = makeGraph(counters);
    order = [];
  });

  /** An op that, once aborted, rejects only when `cleanup` opens (and records when). */
  const lingering = (name: string, cleanup: Latch, input: Vertex = g.const(1)): Vertex =>
    g.vertex({
      name,
      definition: { op: 'lingering', name },
      inputs: [input],
      exec: (_inputs, signal) =>
        new Promise<number>((_resolve, reject) => {
          signal.addEventListener('abort', () => void cleanup.opened.then(() => {
            order.push(`${name} settled`);
            reject(signal.reason);
          }), { once: true });
        }),
    });

  const track = (p: Promise<unknown>, label: string): Promise<unknown> =>
    p.then(
      () => order.push(`${label} resolved`),
      (err: unknown) => {
        order.push(`${label} rejected`);
        return err;
      },
    );

  it('the caller aborting: solve() rejects with CanceledError only after the running op has settled', async () => {
    const cleanup = new Latch();
    const solver = new Solver({ cache: new MemoryCacheStorage() });
    const ac = new AbortController();
    const done = track(solver.solve(g.neg(lingering('op', cleanup)), { signal: ac.signal }), 'solve');
    await counters.until(() => counters.active.has('op'));
    ac.abort();
    await settle();
    expect(order, 'solve settled while its op was still cleaning up').to.deep.equal([]);
    cleanup.release();
    expect(await done).to.be.instanceOf(CanceledError);
    expect(order).to.deep.equal(['op settled', 'solve rejected']);
  });

  it('the first failure: the VertexError comes only after the siblings it canceled have settled', async () => {
    const cleanup = new Latch();
    const gate = new Latch();
    const solver = new Solver({ cache: new MemoryCacheStorage() });
    const failing = g.vertex({ name: 'RUN false', definition: { op: 'fail' }, exec: () => gate.opened.then(() => Promise.reject(new Error('exit code: 1'))) });
    const done = track(solver.solve(g.add(lingering('sibling', cleanup), failing)), 'solve');
    await counters.until(() => counters.active.has('sibling') && counters.active.has('RUN false'));
    gate.release();
    await settle();
    expect(order).to.deep.equal([]);
    cleanup.release();
    const err = await done;
    expect(err).to.be.instanceOf(VertexError).with.nested.property('vertex.name', 'RUN false');
    expect(order).to.deep.equal(['sibling settled', 'solve rejected']);
  });

  it('an aborted op keeps its exec slot until it settles: the next op waits for it', async () => {
    const cleanup = new Latch();
    const solver = new Solver({ cache: new MemoryCacheStorage(), limits: { exec: 1 } });
    const ac = new AbortController();
    const first = track(solver.solve(lingering('first', cleanup), { signal: ac.signal }), 'first');
    await counters.until(() => counters.active.has('first'));
    ac.abort();
    const second = solver.solve(g.neg(g.const(5)));
    await settle();
    expect(counters.execsOf('neg(const 5)'), 'started while the aborted op still held the only slot').to.equal(0);
    cleanup.release();
    expect(await first).to.be.instanceOf(CanceledError);
    expect((await second).result.value).to.equal(-5);
    expect(counters.maxActive(() => true)).to.equal(1);
  });

  it('a shared op: the solve leaving first is rejected at once; the last one to leave waits for the op', async () => {
    const cleanup = new Latch();
    const solver = new Solver({ cache: new MemoryCacheStorage() });
    const a = new AbortController();
    const b = new AbortController();
    const first = track(solver.solve(lingering('shared', cleanup), { signal: a.signal }), 'first');
    await counters.until(() => counters.active.has('shared'));
    const second = track(solver.solve(lingering('shared', cleanup), { signal: b.signal }), 'second');
    await settle();
    a.abort();
    expect(await first).to.be.instanceOf(CanceledError);
    expect(order).to.deep.equal(['first rejected']);
    b.abort();
    await settle();
    expect(order, 'the last waiter left before the op settled').to.deep.equal(['first rejected']);
    cleanup.release();
    expect(await second).to.be.instanceOf(CanceledError);
    expect(order).to.deep.equal(['first rejected', 'shared settled', 'second rejected']);
    expect(counters.execsOf('shared')).to.equal(1);
  });
});
