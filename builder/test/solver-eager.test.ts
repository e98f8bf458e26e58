/**
 * Op.execEager: an op that may start before its inputs are ready (the COPY
 * that builds its layer while the step below it runs). The solver hands it
 * input promises, runs its slot work under the resource limits, aborts it when
 * its result turns out cached, and never settles a solve before it has.
 */
import { expect } from 'chai';
import { MemoryCacheStorage, Solver, VertexError, vertexDigest, type EagerExecContext, type Result, type Vertex } from './solver-imports.js';
import { Counters, Latch, makeGraph } from './solver-fixtures.js';

interface EagerLog {
  calls: number;
  /** Whether the first input was still pending when the op was called. */
  calledEarly: boolean[];
  aborted: number;
  /** Set when the op has finished cleaning up after an abort. */
  cleanedUp: number;
}

/** sum of its inputs, eager: it notes whether input 0 was ready when it was called, and cleans up slowly on abort. */
function eagerSum(inputs: Vertex[], log: EagerLog, name = 'eager'): Vertex {
  return {
    digest: vertexDigest({ op: 'eager-sum', name }),
    name,
    inputs,
    op: {
      cacheMap: async () => ({ definition: { op: 'eager-sum' } }),
      exec: () => Promise.reject(new Error('exec must not be called for an eager op')),
      async execEager(pending: Promise<Result>[], ctx: EagerExecContext): Promise<Result> {
        log.calls++;
        let ready = false;
        void pending[0]!.then(() => (ready = true), () => undefined);
        await Promise.resolve();
        log.calledEarly.push(!ready);
        const onAbort = new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
        try {
          const values = await Promise.race([Promise.all(pending), onAbort]);
          const value = await ctx.slot(async () => values.reduce((a, r) => a + (r.value as number), 0));
          await Promise.race([new Promise((r) => setTimeout(r, 30)), onAbort]);
          return { value };
        } catch (err) {
          log.aborted++;
          await new Promise((r) => setTimeout(r, 30)); // cleanup takes a while: solve() must wait for it
          log.cleanedUp++;
          throw err;
        }
      },
    },
  };
}

const newLog = (): EagerLog => ({ calls: 0, calledEarly: [], aborted: 0, cleanedUp: 0 });

describe('solver: eager ops (Op.execEager)', () => {
  it('is called before its inputs are ready, with their results as promises, and its result is the vertex result', async () => {
    const counters = new Counters();
    const g = makeGraph(counters);
    const latch = new Latch();
    const log = newLog();
    const solver = new Solver({ cache: new MemoryCacheStorage() });
    const solving = solver.solve(eagerSum([g.slow(g.const(1), latch), g.const(2)], log));
    await counters.until(() => counters.active.has('slow(const 1)'));
    await new Promise((r) => setTimeout(r, 10));
    expect(log.calls).to.equal(1);
    latch.release();
    const { result, vertices } = await solving;
    expect(result.value).to.equal(3);
    expect(log.calledEarly).to.deep.equal([true]);
    expect(vertices.find((v) => v.vertex.name === 'eager')!.state).to.equal('completed');
    // Cached next time: not called at all.
    await solver.solve(eagerSum([g.slow(g.const(1), latch), g.const(2)], log));
    expect(log.calls).to.equal(1);
  });

  it('an input that rebuilds to the same output: the eager op is aborted, and solve() returns only after it cleaned up', async () => {
    const counters = new Counters();
    const g = makeGraph(counters);
    const log = newLog();
    const solver = new Solver({ cache: new MemoryCacheStorage() });
    expect((await solver.solve(eagerSum([g.parity(g.const(1))], log))).result.value).to.equal(1);
    // parity(3) is a new definition with the same output: the eager op's definition key misses, its result key hits.
    const second = await solver.solve(eagerSum([g.parity(g.const(3))], log));
    expect(second.result.value).to.equal(1);
    expect(log.calls).to.equal(2);
    expect(log.aborted).to.equal(1);
    expect(log.cleanedUp).to.equal(1);
    expect(second.vertices.find((v) => v.vertex.name === 'eager')!.state).to.equal('cached');
  });

  it('an input failing: the error names the input, and comes only after the eager op has settled', async () => {
    const counters = new Counters();
    const g = makeGraph(counters);
    const log = newLog();
    const solver = new Solver({ cache: new MemoryCacheStorage() });
    const err = await solver.solve(eagerSum([g.fail('broken input'), g.const(2)], log)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(VertexError);
    expect((err as VertexError).vertex.name).to.equal('fail');
    expect(log.calls).to.equal(1);
    expect(log.cleanedUp).to.equal(log.aborted);
  });

  it('slot work runs under the resource-class limit', async () => {
    const counters = new Counters();
    const g = makeGraph(counters);
    const solver = new Solver({ cache: new MemoryCacheStorage(), limits: { exec: 1 } });
    let inSlot = 0;
    let maxInSlot = 0;
    const slotted = (n: number): Vertex => ({
      digest: vertexDigest({ op: 'slotted', n }),
      name: `slotted ${n}`,
      inputs: [g.const(n)],
      op: {
        cacheMap: async () => ({ definition: { op: 'slotted', n } }),
        exec: () => Promise.reject(new Error('unused')),
        async execEager(pending, ctx) {
          const [x] = await Promise.all(pending);
          return ctx.slot(async () => {
            maxInSlot = Math.max(maxInSlot, ++inSlot);
            await new Promise((r) => setTimeout(r, 10));
            inSlot--;
            return { value: x!.value as number };
          });
        },
      },
    });
    const { result } = await solver.solve(g.add(g.add(slotted(1), slotted(2)), slotted(3)));
    expect(result.value).to.equal(6);
    expect(maxInSlot).to.equal(1);
  });
});
