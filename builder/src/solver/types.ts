/**
 * The solver's vocabulary: vertices over opaque ops, their results, and the
 * typed events a progress UI consumes. Nothing here knows about Dockerfiles;
 * the frontend builds vertices, the worker implements ops.
 */
import type { Digest } from '@tsbuild/core';
import { digestOf } from '@tsbuild/core';

export type ResourceClass = 'exec' | 'io';

/**
 * What an op returns: an opaque JSON-serializable record (e.g. `{ snapshot, layers }`).
 * - `contentDigest`: an identity of the *output* (e.g. a layer chain id). When present,
 *   children are keyed on it instead of this vertex's key, so a vertex that rebuilds
 *   to the same output does not invalidate its dependents.
 * - `blobs` / `snapshots`: what must stay alive while the result is cached; copied
 *   into the cache record, where the store's garbage collector reads them.
 */
export interface Result {
  contentDigest?: string;
  blobs?: string[];
  snapshots?: string[];
  [field: string]: unknown;
}

/** What makes up a vertex's cache key besides its digest and its inputs. */
export interface CacheMap {
  /** The readable fields of the key (instruction, expanded args, env…): diffed to explain misses. */
  definition: Record<string, unknown>;
  /** Content checksums of what the vertex reads (e.g. context path → checksum). */
  content?: Record<string, string>;
}

export interface CacheMapContext {
  signal: AbortSignal;
}

export interface ExecContext {
  /** Aborts when the solve fails elsewhere or every build waiting on this vertex is canceled. */
  signal: AbortSignal;
  log(stream: 'stdout' | 'stderr', chunk: string | Uint8Array): void;
}

export interface EagerExecContext extends ExecContext {
  /**
   * Runs `fn` under the vertex's resource-class limit. An eager op runs its work
   * through this, and never waits for an input inside it (a slot held while
   * waiting for an input that needs a slot could deadlock).
   */
  slot<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Marks when the work progress should show began (a COPY: when it starts
   * copying, which may be before the COPY below it is done). Without it, the
   * vertex's time starts when all its inputs were ready, as for any op.
   */
  began(): void;
}

/**
 * The worker's side of a vertex, producing results of type `R` (the worker's
 * result type; the solver only reads the {@link Result} fields). Contract: `cacheMap` is called at most once per
 * vertex per solve and must not depend on input results; `exec` receives its
 * inputs' results in `Vertex.inputs` order and must honour `ctx.signal`.
 *
 * `execEager`, when an op has it, is called instead of `exec`, and earlier: as
 * soon as the vertex missed on its definition key, with each input's result as
 * a promise, so the op can start on what it needs before the rest is ready (a
 * COPY building its layer while the step below it still runs). The solver
 * aborts `ctx.signal` when the result turns out not to be needed (a result-key
 * hit, the same work done by a concurrent solve); the op then cleans up and
 * settles. Its result must be what `exec` would have returned.
 */
export interface Op<R extends Result = Result> {
  cacheMap(ctx: CacheMapContext): Promise<CacheMap>;
  exec(inputs: R[], ctx: ExecContext): Promise<R>;
  execEager?(inputs: Promise<R>[], ctx: EagerExecContext): Promise<R>;
}

/** A runnable vertex: every op of one graph produces the same result type `R`. */
export interface Vertex<R extends Result = Result> {
  /** Digest of the vertex's own canonical definition; see {@link vertexDigest}. */
  digest: Digest;
  /** For progress, e.g. `[stage 2/5] RUN make`. */
  name: string;
  inputs: Vertex<R>[];
  op: Op<R>;
  /** Never reuse a cached result for this vertex (it still stores its result). */
  ignoreCache?: boolean;
  /** Which limiter runs `exec`; default `exec`. */
  resourceClass?: ResourceClass;
  /** Stable identity across builds (e.g. `<dockerfile>#<target>#<stage>#<line>`), used to explain misses. */
  explainId?: string;
}

/** The digest of a vertex definition object (canonical JSON, so key order does not matter). */
export function vertexDigest(definition: object): Digest {
  return digestOf({ vertex: 1, definition });
}

/** How a vertex's identity appears in events and errors. */
export interface VertexRef {
  digest: Digest;
  name: string;
  explainId?: string;
}

export function vertexRef(v: Pick<Vertex, 'digest' | 'name' | 'explainId'>): VertexRef {
  return v.explainId === undefined ? { digest: v.digest, name: v.name } : { digest: v.digest, name: v.name, explainId: v.explainId };
}

/** One structured reason why a vertex missed the cache. */
export type MissReason =
  | { kind: 'no-previous-build' }
  | { kind: 'no-cache' }
  | { kind: 'previous-record-gone'; key: string }
  | { kind: 'definition'; field: string; old: unknown; new: unknown }
  | { kind: 'content'; path: string; change: 'added' | 'removed' | 'changed'; old?: string; new?: string }
  | { kind: 'input'; index: number; name: string; change: 'added' | 'removed' | 'changed'; explainId?: string; oldKey?: string; newKey?: string }
  | { kind: 'key-version'; old: number | undefined; new: number };

export type SolveEvent =
  | { type: 'vertex.started'; vertex: VertexRef; key: string }
  | { type: 'vertex.cached'; vertex: VertexRef; key: string }
  | { type: 'vertex.completed'; vertex: VertexRef; key: string; durationMs: number }
  | { type: 'vertex.failed'; vertex: VertexRef; error: Error; durationMs: number }
  | { type: 'vertex.log'; vertex: VertexRef; stream: 'stdout' | 'stderr'; data: string | Uint8Array }
  | { type: 'vertex.explain'; vertex: VertexRef; key: string; reasons: MissReason[] };

/**
 * The outcome for each vertex of a solve. `cached` includes an ancestor that
 * was only keyed because a descendant hit the cache (reported cached, as
 * BuildKit's progress does); `skipped`: keyed, never needed nor reported (the
 * solve ended first); `shared`: produced by a concurrent solve.
 */
export interface VertexStatus {
  vertex: VertexRef;
  key?: string;
  /** The vertex's definition key (equal to `key` unless it was looked up by result key): a remote cache export names the result under both. */
  definitionKey?: string;
  state: 'cached' | 'completed' | 'shared' | 'skipped' | 'failed' | 'canceled';
  durationMs?: number;
}
