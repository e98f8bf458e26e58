/**
 * The generic solver: schedules a DAG of vertices over opaque ops, reusing
 * cached results. It knows nothing of Dockerfiles.
 *
 * The laziness rule: a vertex executes only when neither of its keys hits
 * (see cache-key.ts). Keys need only cache maps, never results, so every
 * vertex of the graph is keyed, but inputs are *materialized* (loaded from
 * their record or executed) only when their child missed on its definition
 * key. Hence a fully cached build executes nothing, and ancestors of a cached
 * vertex are keyed but never run (even if their own records are gone).
 * A no-cache vertex (ignoreCache, --no-cache, --no-cache-filter) always
 * executes, so its descendants skip the definition-key lookup (which would
 * bypass it) and are looked up by result key only: they hit again when the
 * forced rebuild produced the same output.
 *
 * Concurrency: every ready vertex runs at once, bounded by one p-queue per
 * resource class (cache maps run in `io`). Identical work (same result key)
 * runs once across all concurrent solves on this Solver (flight.ts). A
 * vertex's children start as soon as its result is known; its cache record is
 * written meanwhile, and solve() returns only once every record is.
 *
 * Failure: the first failure aborts the rest of that solve (an internal
 * AbortController chained to the caller's signal) and rejects with a
 * VertexError naming the vertex. The caller's abort rejects with CanceledError
 * and aborts running ops' `ctx.signal` (unless another solve still waits on them).
 * Either way `solve()` settles only after every op it started has settled
 * (cache maps, execs and their cache writes), except ops that another solve
 * still waits on: those go on for it, and this solve does not wait for them.
 */
import { availableParallelism } from 'node:os';
import PQueue from 'p-queue';
import { CanceledError, isCanceled, throwIfAborted } from '@tsbuild/core';
import { CACHE_KEY_VERSION, cacheKeyOf, type KeyComponents } from './cache-key.js';
import type { CacheRecord, CacheStorage } from './cache-storage.js';
import { VertexError } from './errors.js';
import { explainMiss } from './explain.js';
import { FlightGroup, canceled } from './flight.js';
import { vertexRef, type MissReason, type ResourceClass, type Result, type SolveEvent, type Vertex, type VertexStatus } from './types.js';

export interface SolverOptions<R extends Result = Result> {
  cache: CacheStorage<R>;
  /** Concurrent ops per resource class; defaults: exec = cores, io = cores × 2. */
  limits?: { exec?: number; io?: number };
}

export interface SolveOptions<R extends Result = Result> {
  signal?: AbortSignal;
  onEvent?: (event: SolveEvent) => void;
  /** `true` for --no-cache; a predicate to bypass the cache for some vertices. Results are still stored. */
  noCache?: boolean | ((vertex: Vertex<R>) => boolean);
  /**
   * Called on each hit before its result is used: the host keeps what the
   * record names alive for this solve's build (the builder: its lease) and says
   * whether the record still stands (a GC may have removed it meanwhile);
   * `false` makes the hit a miss.
   */
  claim?: (record: CacheRecord<R>, signal: AbortSignal) => Promise<boolean>;
  /**
   * Called with each op this solve starts (its settling): one another solve
   * shares goes on after this solve has settled, on this caller's resources,
   * which the caller must keep until it has.
   */
  onWorkStarted?: (settled: Promise<void>) => void;
}

type Claim<R extends Result> = (record: CacheRecord<R>, signal: AbortSignal) => Promise<boolean>;

export interface SolveResult<R extends Result = Result> {
  result: R;
  key: string;
  vertices: VertexStatus[];
}

interface SolveState<R extends Result> {
  signal: AbortSignal;
  onWorkStarted: ((settled: Promise<void>) => void) | undefined;
  controller: AbortController;
  emit: (event: SolveEvent) => void;
  noCache: (vertex: Vertex<R>) => boolean;
  claim: Claim<R>;
  keys: Map<Vertex<R>, Promise<Keyed>>;
  records: Map<Vertex<R>, Promise<CacheRecord<R>>>;
  statuses: Map<Vertex<R>, VertexStatus>;
  /** Cache writes still going on: children need the result, not its record on disk; solve() waits for them before it returns. */
  writes: Promise<void>[];
  firstError?: unknown;
}

/** An eager op's run (Op.execEager), started before its inputs were ready. */
interface Eager<R extends Result> {
  result: Promise<R>;
  /** Resolves once the op has settled, however. */
  settled: Promise<void>;
  cancel(reason: unknown): void;
  /** Hands it to the flight that produces the vertex: from now on `signal` aborts it, not the solve's. */
  adopt(signal: AbortSignal): void;
  /** When the op said its work began (EagerExecContext.began), performance.now() time. */
  beganAt?: number;
}

/** A vertex's definition key and components; `forced` when it or an ancestor must execute. */
type Keyed = KeyComponents & { key: string; forced: boolean };

interface Produced<R extends Result> {
  record: CacheRecord<R>;
  executed: boolean;
  durationMs?: number;
  /** The record's (and its aliases') writes. */
  written: Promise<void>;
}

/** Solves graphs of vertices whose ops produce results of type `R` (the worker's result type). */
export class Solver<R extends Result = Result> {
  private readonly cache: CacheStorage<R>;
  private readonly queues: Record<ResourceClass, PQueue>;
  private readonly flights = new FlightGroup<Produced<R>, SolveEvent>();

  constructor(options: SolverOptions<R>) {
    const cores = availableParallelism();
    this.cache = options.cache;
    this.queues = {
      exec: new PQueue({ concurrency: options.limits?.exec ?? cores * 2 }),
      io: new PQueue({ concurrency: options.limits?.io ?? cores * 2 }),
    };
  }

  async solve(target: Vertex<R>, options: SolveOptions<R> = {}): Promise<SolveResult<R>> {
    throwIfAborted(options.signal);
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(canceled(options.signal!));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const noCache = options.noCache;
    const state: SolveState<R> = {
      signal: controller.signal,
      onWorkStarted: options.onWorkStarted,
      controller,
      emit: () => undefined, // set below: it needs the state
      noCache: typeof noCache === 'function' ? noCache : () => noCache === true,
      claim: options.claim ?? (async () => true),
      keys: new Map(),
      records: new Map(),
      statuses: new Map(),
      writes: [],
    };
    state.emit = this.announcingInputs(target, state, (event) => options.onEvent?.(event));
    try {
      const record = await this.materialize(target, state);
      await Promise.all(state.writes);
      return { result: record.result, key: record.key, vertices: [...state.statuses.values()] };
    } catch (err) {
      // Settle only after every op this solve started has (ops another solve still shares go on for it).
      if (!controller.signal.aborted) controller.abort(err);
      await this.drain(state);
      await Promise.allSettled(state.writes);
      if (options.signal?.aborted) throw canceled(options.signal);
      throw state.firstError ?? err;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      if (!controller.signal.aborted) controller.abort(new CanceledError('solve finished'));
    }
  }

  /**
   * Wraps a solve's event sink as BuildKit's progress stream does
   * (solver/progress.go `vertexStream.append`): when a vertex starts or is
   * cached, each input that has reported nothing yet — keyed only, because a
   * descendant hit the cache — is reported cached first, recursively. So a
   * rebuild lists `CACHED [1/4] FROM …` and every cached step above the first
   * one that ran, instead of leaving them out.
   */
  private announcingInputs(target: Vertex<R>, s: SolveState<R>, sink: (event: SolveEvent) => void): (event: SolveEvent) => void {
    const byDigest = new Map<string, Vertex<R>>();
    const walk = (v: Vertex<R>): void => {
      if (byDigest.has(v.digest)) return;
      byDigest.set(v.digest, v);
      v.inputs.forEach(walk);
    };
    walk(target);
    const reported = new Set<string>();
    const announced = new Set<string>();
    const announce = (v: Vertex<R>): void => {
      for (const input of v.inputs) {
        const status = s.statuses.get(input);
        if (reported.has(input.digest) || status?.state !== 'skipped' || status.key === undefined) continue;
        reported.add(input.digest);
        announced.add(input.digest);
        announce(input);
        this.setStatus(s, input, { key: status.key, state: 'cached' });
        sink({ type: 'vertex.cached', vertex: vertexRef(input), key: status.key });
      }
    };
    return (event) => {
      if ('vertex' in event) {
        const v = byDigest.get(event.vertex.digest);
        if (v && (event.type === 'vertex.started' || event.type === 'vertex.cached')) announce(v);
        // Another consumer's definition-key hit on an input announced already: said once.
        if (event.type === 'vertex.cached' && announced.has(event.vertex.digest)) return;
        reported.add(event.vertex.digest);
      }
      sink(event);
    };
  }

  /** The definition key of a vertex: from cache maps and input definition keys only. */
  private keyOf(v: Vertex<R>, s: SolveState<R>): Promise<Keyed> {
    return memo(s.keys, v, () =>
      this.guard(v, s, async () => {
        const inputs = await Promise.all(v.inputs.map((i) => this.keyOf(i, s)));
        const map = await this.run('io', s.signal, () => v.op.cacheMap({ signal: s.signal }));
        const components: KeyComponents = {
          v: CACHE_KEY_VERSION,
          name: v.name,
          ...(v.explainId === undefined ? {} : { explainId: v.explainId }),
          vertex: v.digest,
          definition: map.definition,
          content: map.content ?? {},
          inputs: inputs.map((k) => ({ name: k.name, ...(k.explainId === undefined ? {} : { explainId: k.explainId }), key: k.key })),
        };
        const key = cacheKeyOf(components);
        s.statuses.set(v, { vertex: vertexRef(v), key, definitionKey: key, state: 'skipped' });
        const forced = v.ignoreCache === true || s.noCache(v) || inputs.some((i) => i.forced);
        return { ...components, key, forced };
      }),
    );
  }

  /** The vertex's record: a definition-key hit, else inputs first, then a result-key hit or an exec. */
  private materialize(v: Vertex<R>, s: SolveState<R>): Promise<CacheRecord<R>> {
    return memo(s.records, v, () =>
      this.guard(v, s, async () => {
        const { key: defKey, forced, ...keyed } = await this.keyOf(v, s);
        const noCache = v.ignoreCache === true || s.noCache(v);
        if (!forced) {
          const hit = await this.cache.get(defKey, { signal: s.signal });
          if (hit && (await s.claim(hit, s.signal))) {
            s.writes.push(background(this.touch(hit, s.signal)));
            this.setStatus(s, v, { key: defKey, definitionKey: defKey, state: 'cached' });
            s.emit({ type: 'vertex.cached', vertex: vertexRef(v), key: defKey });
            return hit;
          }
        }
        const pending = v.inputs.map((i) => this.materialize(i, s).then((r) => this.ready(r, s.signal)));
        const early = v.op.execEager ? this.startEager(v, pending, s) : undefined;
        let adopted = false;
        try {
          const inputs = await Promise.all(pending);
          const components: KeyComponents = { ...keyed, inputs: keyed.inputs.map((c, i) => ({ ...c, key: inputs[i]!.outputKey })) };
          const key = cacheKeyOf(components);
          const { value, shared } = await this.flights.run(noCache ? `no-cache:${key}` : key, { signal: s.signal, listener: s.emit }, (signal, emit) => {
            adopted = early !== undefined;
            return this.produce(v, { defKey, key, components, inputs, noCache, lookedUp: !forced, early, claim: s.claim }, signal, emit);
          }, (work) => s.onWorkStarted?.(work.then(() => undefined, () => undefined)));
          // Produced for another solve: this one's build holds it too (the record is made, whether or not a GC removed it since).
          if (shared) await s.claim(value.record, s.signal);
          s.writes.push(value.written);
          const state = !value.executed ? 'cached' : shared ? 'shared' : 'completed';
          this.setStatus(s, v, { key, definitionKey: defKey, state, ...(value.durationMs === undefined ? {} : { durationMs: value.durationMs }) });
          return value.record;
        } finally {
          // An input failed, or a concurrent solve produced it: the early start is not needed.
          if (!adopted) early?.cancel(new CanceledError('not needed'));
        }
      }),
    );
  }

  /**
   * Calls an eager op before its inputs are ready (see Op.execEager). It is
   * this solve's until produce() adopts it (then the flight's signal governs
   * it); the solve settles only after it has.
   */
  private startEager(v: Vertex<R>, pending: Promise<CacheRecord<R>>[], s: SolveState<R>): Eager<R> {
    const controller = new AbortController();
    const onSolveAbort = (): void => controller.abort(s.signal.reason);
    s.signal.addEventListener('abort', onSolveAbort, { once: true });
    const ref = vertexRef(v);
    const inputs = pending.map((p) => p.then((r) => r.result));
    for (const i of inputs) i.catch(() => undefined); // an input's failure is the solve's to report
    const result = Promise.resolve().then(() =>
      v.op.execEager!(inputs, {
        signal: controller.signal,
        log: (stream, data) => s.emit({ type: 'vertex.log', vertex: ref, stream, data }),
        slot: (fn) => this.run(v.resourceClass ?? 'exec', controller.signal, fn),
        began: () => (eager.beganAt = performance.now()),
      }),
    );
    const settled = result.then(() => undefined, () => undefined).finally(() => s.signal.removeEventListener('abort', onSolveAbort));
    s.writes.push(settled);
    const eager: Eager<R> = {
      result,
      settled,
      cancel: (reason) => controller.abort(reason),
      adopt: (signal) => {
        s.signal.removeEventListener('abort', onSolveAbort);
        if (signal.aborted) controller.abort(signal.reason);
        else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
      },
    };
    return eager;
  }

  private async produce(
    v: Vertex<R>,
    p: { defKey: string; key: string; components: KeyComponents; inputs: CacheRecord<R>[]; noCache: boolean; lookedUp: boolean; early?: Eager<R> | undefined; claim: Claim<R> },
    signal: AbortSignal,
    emit: (event: SolveEvent) => void,
  ): Promise<Produced<R>> {
    p.early?.adopt(signal);
    const ref = vertexRef(v);
    if (!p.noCache && !(p.lookedUp && p.key === p.defKey)) {
      const hit = await this.cache.get(p.key, { signal });
      if (hit && (await p.claim(hit, signal))) {
        if (p.early) {
          p.early.cancel(new CanceledError('result cached'));
          await p.early.settled;
        }
        // Alias under the definition key too, so the next build hits without materializing inputs.
        const written = background(Promise.all([p.defKey !== p.key && this.cache.put(p.defKey, { ...hit, key: p.defKey, lastUsedAt: now() }, { signal }), this.touch(hit, signal)]));
        emit({ type: 'vertex.cached', vertex: ref, key: p.key });
        return { record: hit, executed: false, written };
      }
    }
    // Why it missed is read (the last record of its explain id, maybe a big content map) while it runs, not before.
    // Started when its work begins — once it holds its resource slot — so time spent queued for a
    // slot is neither in its duration nor before its start (an eager op takes its slots itself).
    // The explanation follows the start, as progress shows it under the step.
    let started: number | undefined;
    let onStart!: () => void;
    const startedOnce = new Promise<void>((resolve) => (onStart = resolve));
    const start = (): void => {
      if (started !== undefined) return;
      emit({ type: 'vertex.started', vertex: ref, key: p.key });
      started = performance.now();
      onStart();
    };
    const explained = (p.noCache ? Promise.resolve([{ kind: 'no-cache' } as const]) : this.explain(p.components, p.key, signal))
      .then(async (reasons) => {
        await startedOnce;
        if (reasons) emit({ type: 'vertex.explain', vertex: ref, key: p.key, reasons });
      }, () => undefined);
    let result: R;
    try {
      if (p.early) start();
      result = p.early
        ? await p.early.result
        : await this.run(v.resourceClass ?? 'exec', signal, () => {
            start();
            return v.op.exec(p.inputs.map((r) => r.result), { signal, log: (stream, data) => emit({ type: 'vertex.log', vertex: ref, stream, data }) });
          });
    } catch (err) {
      const error = signal.aborted ? canceled(signal) : new VertexError(ref, err);
      start(); // canceled while queued: still a started → failed pair for progress
      await explained;
      emit({ type: 'vertex.failed', vertex: ref, error, durationMs: performance.now() - started! });
      throw error;
    }
    await explained;
    // An eager op that began before its inputs were all ready (COPYs side by side) reports that time too.
    const durationMs = performance.now() - Math.min(started!, p.early?.beganAt ?? started!);
    const at = now();
    const record: CacheRecord<R> = {
      key: p.key,
      result,
      outputKey: result.contentDigest ?? p.key,
      createdAt: at,
      lastUsedAt: at,
      blobs: result.blobs ?? [],
      snapshots: result.snapshots ?? [],
      explain: p.components,
    };
    const written = background(Promise.all([
      this.cache.put(p.key, record, { signal }),
      p.defKey !== p.key && this.cache.put(p.defKey, { ...record, key: p.defKey }, { signal }),
      v.explainId !== undefined && this.cache.setExplainKey(v.explainId, p.key, { signal }),
    ]));
    emit({ type: 'vertex.completed', vertex: ref, key: p.key, durationMs });
    return { record, executed: true, durationMs, written };
  }

  /** Reasons for a miss against the last build of the same explain id; undefined without an explain id. */
  private async explain(components: KeyComponents, key: string, signal: AbortSignal): Promise<MissReason[] | undefined> {
    if (components.explainId === undefined) return undefined;
    const prevKey = await this.cache.getExplainKey(components.explainId, { signal });
    if (prevKey === undefined) return [{ kind: 'no-previous-build' }];
    const prev = prevKey === key ? undefined : await this.cache.get(prevKey, { signal });
    if (!prev) return [{ kind: 'previous-record-gone', key: prevKey }];
    return explainMiss(prev.explain, components);
  }

  /** The record once the storage has what it names (CacheStorage.ready): an input about to be read by an op. */
  private async ready(record: CacheRecord<R>, signal: AbortSignal): Promise<CacheRecord<R>> {
    await this.cache.ready?.(record, { signal });
    return record;
  }

  /** Record the hit (last use, use count) and make this key the one the next miss is explained against. */
  private async touch(record: CacheRecord<R>, signal: AbortSignal): Promise<void> {
    await Promise.all([
      this.cache.touch(record.key, { signal }),
      record.explain.explainId !== undefined && this.cache.setExplainKey(record.explain.explainId, record.key, { signal }),
    ]);
  }

  /**
   * Runs `fn` in the resource class's queue. An abort while queued removes it at
   * once; once started, it holds its slot and this settles only when `fn` does
   * (p-queue's own `signal` would reject at once and free the slot while the op
   * is still cleaning up, so it only ever sees a signal that aborts while queued).
   */
  private async run<T>(cls: ResourceClass, signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
    const queued = new AbortController();
    let started = false;
    const onAbort = (): void => {
      if (!started) queued.abort(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.queues[cls].add(
        async () => {
          started = true;
          throwIfAborted(signal);
          return fn();
        },
        { signal: queued.signal },
      );
    } catch (err) {
      if (signal.aborted) throw canceled(signal);
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Waits until every key and record this solve started has settled (new ones may start while waiting). */
  private async drain(s: SolveState<R>): Promise<void> {
    for (let n = -1; n !== s.keys.size + s.records.size; ) {
      n = s.keys.size + s.records.size;
      await Promise.allSettled([...s.keys.values(), ...s.records.values()]);
    }
  }

  /** Names the vertex in any failure and makes the first failure abort the solve. */
  private async guard<T>(v: Vertex<R>, s: SolveState<R>, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const error = err instanceof VertexError || isCanceled(err) ? err : new VertexError(vertexRef(v), err);
      if (s.firstError === undefined && !s.signal.aborted && !isCanceled(error)) {
        s.firstError = error;
        s.controller.abort(error);
      }
      const status = s.statuses.get(v);
      if (status && status.state === 'skipped') status.state = error instanceof VertexError && error.vertex.digest === v.digest ? 'failed' : 'canceled';
      throw error;
    }
  }

  private setStatus(s: SolveState<R>, v: Vertex<R>, patch: Omit<VertexStatus, 'vertex'>): void {
    s.statuses.set(v, { vertex: vertexRef(v), ...patch });
  }
}

/** A write that nobody awaits yet: its failure is kept for whoever does (solve), not an unhandled rejection now. */
function background(p: Promise<unknown>): Promise<void> {
  const done = p.then(() => undefined);
  done.catch(() => undefined);
  return done;
}

function memo<K, V>(map: Map<K, Promise<V>>, key: K, make: () => Promise<V>): Promise<V> {
  let p = map.get(key);
  if (!p) {
    p = make();
    map.set(key, p);
  }
  return p;
}

function now(): string {
  return new Date().toISOString();
}
