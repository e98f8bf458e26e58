import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { FileCacheStorage, MemoryCacheStorage, Solver, type SolveEvent } from './solver-imports.js';
import { Counters, makeGraph } from './solver-fixtures.js';

describe('solver: results and caching', () => {
  let counters: Counters;
  let g: ReturnType<typeof makeGraph>;
  let solver: Solver;
  beforeEach(() => {
    counters = new Counters();
    g = makeGraph(counters);
    solver = new Solver({ cache: new MemoryCacheStorage() });
  });

  it('computes the result of an arithmetic graph, executing each vertex once', async () => {
    const target = g.add(g.const(2), g.mul(g.const(3), g.const(4)));
    const { result, key, vertices } = await solver.solve(target);
    expect(result.value).to.equal(14);
    expect(key).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(counters.totalExecs).to.equal(5);
    expect(vertices.map((v) => v.state)).to.deep.equal(['completed', 'completed', 'completed', 'completed', 'completed']);
  });

  it('a second solve is fully cached: zero execs, ancestors only keyed and reported cached, one cacheMap per vertex per build', async () => {
    const build = () => g.add(g.const(2), g.mul(g.const(3), g.const(4)));
    const first = await solver.solve(build());
    const events: SolveEvent[] = [];
    const second = await solver.solve(build(), { onEvent: (e) => events.push(e) });
    expect(second.result.value).to.equal(14);
    expect(second.key).to.equal(first.key);
    expect(counters.totalExecs).to.equal(5);
    // Ancestors are keyed, not loaded, and reported cached before their consumer, as BuildKit's
    // progress stream does (solver/progress.go vertexStream.append).
    expect(events.map((e) => `${e.type} ${e.vertex.name}`)).to.deep.equal([
      'vertex.cached const 2',
      'vertex.cached const 3',
      'vertex.cached const 4',
      'vertex.cached mul(const 3, const 4)',
      'vertex.cached add(const 2, mul(const 3, const 4))',
    ]);
    const states = Object.fromEntries(second.vertices.map((v) => [v.vertex.name, v.state]));
    expect(states).to.deep.equal({
      'add(const 2, mul(const 3, const 4))': 'cached',
      'const 2': 'cached',
      'mul(const 3, const 4)': 'cached',
      'const 3': 'cached',
      'const 4': 'cached',
    });
    expect([...counters.cacheMaps.values()]).to.deep.equal([2, 2, 2, 2, 2]);
  });

  it('changing one leaf re-executes only its dependents', async () => {
    const build = (a: number) => g.add(g.mul(g.const(a), g.const(10)), g.mul(g.const(3), g.const(4)));
    await solver.solve(build(1));
    counters.execs.clear();
    const { result } = await solver.solve(build(2));
    expect(result.value).to.equal(32);
    expect(Object.fromEntries(counters.execs)).to.deep.equal({
      'const 2': 1,
      'mul(const 2, const 10)': 1,
      'add(mul(const 2, const 10), mul(const 3, const 4))': 1,
    });
  });

  it('an input that rebuilds to the same contentDigest leaves its dependents cached', async () => {
    // parity(const 3) and parity(const 5) both output 1: the rebuild is recognised by its contentDigest.
    const build = (n: number) => g.neg(g.add(g.parity(g.const(n)), g.const(10)));
    const first = await solver.solve(build(3));
    expect(first.result.value).to.equal(-11);
    counters.execs.clear();
    const events: SolveEvent[] = [];
    const second = await solver.solve(build(5), { onEvent: (e) => events.push(e) });
    expect(second.result.value).to.equal(-11);
    expect(Object.fromEntries(counters.execs)).to.deep.equal({ 'const 5': 1, 'parity(const 5)': 1 });
    const states = Object.fromEntries(second.vertices.map((v) => [v.vertex.name, v.state]));
    expect(states['add(parity(const 5), const 10)']).to.equal('cached');
    expect(states['neg(add(parity(const 5), const 10))']).to.equal('cached');
    expect(second.key).to.equal(first.key);
    // and the build after that hits on definition keys alone
    counters.execs.clear();
    await solver.solve(build(5));
    expect(counters.totalExecs).to.equal(0);
  });

  it('an ancestor whose record was evicted is not executed when its descendant hits', async () => {
    const cache = new MemoryCacheStorage();
    solver = new Solver({ cache });
    const leaf = () => g.const(7);
    const first = await solver.solve(g.neg(leaf()));
    const leafKey = first.vertices.find((v) => v.vertex.name === 'const 7')!.key!;
    await cache.delete(leafKey);
    counters.execs.clear();
    const second = await solver.solve(g.neg(leaf()));
    expect(second.result.value).to.equal(-7);
    expect(counters.totalExecs).to.equal(0);
  });

  it('noCache: true re-executes everything and still stores the results', async () => {
    const build = () => g.add(g.const(1), g.const(2));
    await solver.solve(build());
    counters.execs.clear();
    const { result } = await solver.solve(build(), { noCache: true });
    expect(result.value).to.equal(3);
    expect(counters.totalExecs).to.equal(3);
    counters.execs.clear();
    await solver.solve(build());
    expect(counters.totalExecs).to.equal(0);
  });

  it('a noCache predicate (--no-cache-filter) re-executes only the matching vertices', async () => {
    const build = () => g.neg(g.add(g.const(1), g.const(2)));
    await solver.solve(build());
    counters.execs.clear();
    const { result } = await solver.solve(build(), { noCache: (v) => v.name.startsWith('add(') });
    expect(result.value).to.equal(-3);
    // add re-runs; its inputs are loaded from cache, and neg hits on the unchanged output key.
    expect(Object.fromEntries(counters.execs)).to.deep.equal({ 'add(const 1, const 2)': 1 });
  });

  it('a noCache vertex executes even when its descendants are cached; they hit again on its unchanged output', async () => {
    const build = () => g.neg(g.add(g.const(1), g.const(2)));
    await solver.solve(build());
    counters.execs.clear();
    const { vertices } = await solver.solve(build(), { noCache: (v) => v.name === 'const 1' });
    expect(Object.fromEntries(counters.execs)).to.deep.equal({ 'const 1': 1 });
    const states = Object.fromEntries(vertices.map((v) => [v.vertex.name, v.state]));
    expect(states).to.deep.include({ 'const 1': 'completed', 'add(const 1, const 2)': 'cached', 'neg(add(const 1, const 2))': 'cached' });
  });

  it('a vertex with ignoreCache re-executes on every build', async () => {
    const build = () => g.vertex({ name: 'date', definition: { op: 'date' }, ignoreCache: true, exec: async () => 42 });
    await solver.solve(build());
    await solver.solve(build());
    expect(counters.execsOf('date')).to.equal(2);
  });

  it('forwards op logs as vertex.log events with the vertex', async () => {
    const v = g.vertex({
      name: 'echo',
      definition: { op: 'echo' },
      exec: async (_inputs, _signal, log) => {
        log('stdout', 'hello\n');
        log('stderr', 'warn\n');
        return 0;
      },
    });
    const events: SolveEvent[] = [];
    await solver.solve(v, { onEvent: (e) => events.push(e) });
    const logs = events.filter((e) => e.type === 'vertex.log');
    expect(logs.map((e) => [e.vertex.name, e.stream, e.data])).to.deep.equal([
      ['echo', 'stdout', 'hello\n'],
      ['echo', 'stderr', 'warn\n'],
    ]);
    const completed = events.find((e) => e.type === 'vertex.completed');
    expect(completed).to.have.property('durationMs').that.is.a('number');
    expect(events.map((e) => e.type)).to.deep.equal(['vertex.started', 'vertex.log', 'vertex.log', 'vertex.completed']);
  });
});

describe('solver: FileCacheStorage persistence', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tsbuild-solver-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a new Solver on the same directory hits the cache, and records carry blobs and snapshots', async () => {
    const counters = new Counters();
    const g = makeGraph(counters);
    const build = () => g.add(g.const(20), g.const(22));
    const first = await new Solver({ cache: new FileCacheStorage(dir) }).solve(build());
    expect(first.result.value).to.equal(42);
    expect(counters.totalExecs).to.equal(3);

    const second = await new Solver({ cache: new FileCacheStorage(dir) }).solve(build());
    expect(second.result.value).to.equal(42);
    expect(counters.totalExecs).to.equal(3);

    const files = await readdir(join(dir, 'records'));
    expect(files).to.have.length(3);
    const record = JSON.parse(await readFile(join(dir, 'records', `${first.key.slice(7)}.json`), 'utf8')) as Record<string, unknown>;
    expect(record).to.include({ key: first.key });
    expect(record).to.include.keys('result', 'createdAt', 'lastUsedAt', 'explain');
    expect(record.blobs).to.deep.equal(['blob-of-add(const 20, const 22)']);
    expect(record.snapshots).to.deep.equal(['snap-of-add(const 20, const 22)']);
    expect(record.result).to.deep.include({ value: 42 });
  });
});
