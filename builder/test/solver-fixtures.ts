/**
 * Tiny arithmetic vertices with call counters, the model of BuildKit's solver
 * tests: const(n), add(a, b), mul(a, b), parity(x) (reports a contentDigest so
 * a rebuild to the same parity is recognised), slow(x) awaiting a latch, fail().
 */
import { vertexDigest, type Result, type Vertex } from '@tsbuild/builder';

export class Latch {
  private open!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  release(): void {
    this.open();
  }
}

/** Counts execs and cacheMap calls per vertex name, and how many execs overlap. */
export class Counters {
  readonly execs = new Map<string, number>();
  readonly cacheMaps = new Map<string, number>();
  readonly aborted = new Set<string>();
  /** Names of the ops executing right now. */
  readonly active = new Set<string>();
  running = 0;
  /** The set of active op names at each exec start, to find peaks of a subset. */
  private readonly snapshots: string[][] = [];
  maxRunning = 0;
  private waiters: Array<() => void> = [];

  get totalExecs(): number {
    return [...this.execs.values()].reduce((a, b) => a + b, 0);
  }
  execsOf(name: string): number {
    return this.execs.get(name) ?? 0;
  }
  enter(name: string): void {
    this.execs.set(name, this.execsOf(name) + 1);
    this.running++;
    this.active.add(name);
    this.snapshots.push([...this.active]);
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.notify();
  }
  leave(name: string): void {
    this.running--;
    this.active.delete(name);
    this.notify();
  }
  /** The most ops whose name matches `pred` that were ever executing at once. */
  maxActive(pred: (name: string) => boolean): number {
    return Math.max(0, ...this.snapshots.map((names) => names.filter(pred).length));
  }
  /** Resolves once `cond` holds (checked after every counter change). */
  async until(cond: () => boolean): Promise<void> {
    while (!cond()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

export interface VertexSpec {
  name: string;
  definition: Record<string, unknown>;
  inputs?: Vertex[];
  content?: Record<string, string>;
  explainId?: string;
  ignoreCache?: boolean;
  resourceClass?: 'exec' | 'io';
  exec: (inputs: number[], signal: AbortSignal, log: (s: 'stdout' | 'stderr', d: string) => void) => Promise<number>;
  /** Derive a contentDigest from the value, so equal outputs are recognised. */
  contentDigest?: boolean;
}

export function makeGraph(counters: Counters) {
  const vertex = (spec: VertexSpec): Vertex => ({
    digest: vertexDigest(spec.definition),
    name: spec.name,
    inputs: spec.inputs ?? [],
    ...(spec.explainId === undefined ? {} : { explainId: spec.explainId }),
    ...(spec.ignoreCache === undefined ? {} : { ignoreCache: spec.ignoreCache }),
    ...(spec.resourceClass === undefined ? {} : { resourceClass: spec.resourceClass }),
    op: {
      async cacheMap() {
        counters.cacheMaps.set(spec.name, (counters.cacheMaps.get(spec.name) ?? 0) + 1);
        return spec.content === undefined ? { definition: spec.definition } : { definition: spec.definition, content: spec.content };
      },
      async exec(inputs: Result[], ctx) {
        counters.enter(spec.name);
        ctx.signal.addEventListener('abort', () => counters.aborted.add(spec.name), { once: true });
        try {
          const value = await spec.exec(
            inputs.map((r) => r.value as number),
            ctx.signal,
            (s, d) => ctx.log(s, d),
          );
          return {
            value,
            blobs: [`blob-of-${spec.name}`],
            snapshots: [`snap-of-${spec.name}`],
            ...(spec.contentDigest ? { contentDigest: `value:${value}` } : {}),
          };
        } finally {
          counters.leave(spec.name);
        }
      },
    },
  });

  return {
    vertex,
    const: (n: number, explainId?: string) =>
      vertex({ name: `const ${n}`, definition: { op: 'const', n }, exec: async () => n, ...(explainId ? { explainId } : {}) }),
    add: (a: Vertex, b: Vertex, name = `add(${a.name}, ${b.name})`) =>
      vertex({ name, definition: { op: 'add' }, inputs: [a, b], exec: async ([x, y]) => x! + y! }),
    mul: (a: Vertex, b: Vertex) =>
      vertex({ name: `mul(${a.name}, ${b.name})`, definition: { op: 'mul' }, inputs: [a, b], exec: async ([x, y]) => x! * y! }),
    neg: (a: Vertex) => vertex({ name: `neg(${a.name})`, definition: { op: 'neg' }, inputs: [a], exec: async ([x]) => -x! }),
    parity: (a: Vertex) =>
      vertex({ name: `parity(${a.name})`, definition: { op: 'parity' }, inputs: [a], contentDigest: true, exec: async ([x]) => x! % 2 }),
    /** Passes its input through once `latch` opens; rejects when its signal aborts. */
    slow: (a: Vertex, latch: Latch, tag = '') =>
      vertex({
        name: `slow${tag}(${a.name})`,
        definition: { op: 'slow', tag },
        inputs: [a],
        exec: ([x], signal) =>
          new Promise<number>((resolve, reject) => {
            signal.addEventListener('abort', () => reject(signal.reason), { once: true });
            void latch.opened.then(() => resolve(x!));
          }),
      }),
    fail: (message = 'boom') =>
      vertex({ name: 'fail', definition: { op: 'fail', message }, exec: async () => Promise.reject(new Error(message)) }),
  };
}
