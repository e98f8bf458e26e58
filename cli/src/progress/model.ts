/**
 * The progress model: a fold of BuildEvents into one record per vertex (when
 * it started and ended, whether it hit the cache, why it missed, its output).
 * Every view that needs the whole picture — the tty frame, --trace, --report —
 * reads this model instead of re-interpreting events, so they agree on what a
 * step's duration or cache state is.
 *
 * `applyEvent` mutates the model it is given (one owner, many events) and is
 * otherwise pure: no clock, no I/O; times come from the events.
 */
import { explainLines } from './explain-lines.js';
import type { BuildEvent, BuildWarning, PlannedVertex } from '@tsbuild/builder';

export type VertexState = 'planned' | 'running' | 'cached' | 'done' | 'error';

export interface VertexRecord {
  id: string;
  name: string;
  /** 1-based, in order of first activity: BuildKit's `#N`. 0 while only planned. */
  index: number;
  state: VertexState;
  inputs: string[];
  stage?: string;
  started?: number;
  ended?: number;
  durationMs?: number;
  error?: string;
  /** The solver's explanation of a cache miss, one line per reason. */
  explain: string[];
  /** Complete output lines, each with the time it arrived (bounded: see MAX_LOG_LINES). */
  logs: Array<{ time: number; line: string }>;
  /** Output not yet ended by a newline, per stream. */
  partial: { stdout: string; stderr: string };
  /** Export records only: an export step, not a solver vertex. */
  export?: boolean;
}

export interface ProgressModel {
  vertices: Map<string, VertexRecord>;
  /** Vertex ids in the order they became active (their `#N`). */
  order: string[];
  warnings: BuildWarning[];
  started?: number;
  ended?: number;
  result?: { ok: true; digest?: string; tags: string[]; durationMs: number } | { ok: false; message: string; durationMs: number };
}

/** Output lines kept per vertex: enough for a failure's tail and the report, bounded for chatty steps. */
export const MAX_LOG_LINES = 200;

export function createModel(): ProgressModel {
  return { vertices: new Map(), order: [], warnings: [] };
}

export function applyEvent(model: ProgressModel, event: BuildEvent): void {
  model.started ??= event.time;
  switch (event.type) {
    case 'build.plan':
      for (const p of event.vertices) plan(model, p);
      return;
    case 'vertex.started': {
      const v = activate(model, event.id, event.name, event.time);
      v.state = 'running';
      v.started = event.time;
      return;
    }
    case 'vertex.cached': {
      const v = activate(model, event.id, event.name, event.time);
      v.state = 'cached';
      v.started ??= event.time;
      v.ended = event.time;
      return;
    }
    case 'vertex.completed':
    case 'vertex.failed': {
      const v = activate(model, event.id, event.name, event.time - event.durationMs);
      // A step may have begun before it was reported started (an eager COPY, see Op.execEager).
      if (v.started !== undefined && event.time - event.durationMs < v.started - 1) v.started = Math.round(event.time - event.durationMs);
      flushPartial(v, event.time);
      v.ended = event.time;
      v.durationMs = event.durationMs;
      if (event.type === 'vertex.failed') {
        v.state = 'error';
        v.error = event.message;
      } else v.state = 'done';
      return;
    }
    case 'vertex.log':
      appendLog(vertexFor(model, event.id, event.name), event.stream, event.data, event.time);
      return;
    case 'vertex.explain':
      vertexFor(model, event.id, event.name).explain = explainLines(event);
      return;
    case 'warning':
      model.warnings.push(event.warning);
      return;
    case 'export.started': {
      const v = activate(model, `export:${event.id}`, event.name, event.time);
      v.export = true;
      v.state = 'running';
      return;
    }
    case 'export.completed': {
      const v = activate(model, `export:${event.id}`, event.name, event.time - event.durationMs);
      v.export = true;
      v.state = 'done';
      v.ended = event.time;
      v.durationMs = event.durationMs;
      return;
    }
    case 'build.completed':
      model.ended = event.time;
      model.result = { ok: true, tags: event.tags, durationMs: event.durationMs, ...(event.digest ? { digest: event.digest } : {}) };
      return;
    case 'build.failed':
      model.ended = event.time;
      model.result = { ok: false, message: event.message, durationMs: event.durationMs };
      return;
  }
}

/** Folds a whole event sequence (what --trace and --report do after the build). */
export function modelOf(events: Iterable<BuildEvent>): ProgressModel {
  const model = createModel();
  for (const e of events) applyEvent(model, e);
  return model;
}

/** Vertices that became active, in `#N` order. */
export function activeVertices(model: ProgressModel): VertexRecord[] {
  return model.order.map((id) => model.vertices.get(id)!);
}

function plan(model: ProgressModel, p: PlannedVertex): void {
  const v = vertexFor(model, p.id, p.name);
  v.inputs = [...p.inputs];
  if (p.stage !== undefined) v.stage = p.stage;
}

function vertexFor(model: ProgressModel, id: string, name: string): VertexRecord {
  let v = model.vertices.get(id);
  if (!v) {
    v = { id, name, index: 0, state: 'planned', inputs: [], explain: [], logs: [], partial: { stdout: '', stderr: '' } };
    model.vertices.set(id, v);
  }
  return v;
}

function activate(model: ProgressModel, id: string, name: string, time: number): VertexRecord {
  const v = vertexFor(model, id, name);
  if (v.index === 0) {
    model.order.push(id);
    v.index = model.order.length;
    v.started ??= time;
  }
  return v;
}

function appendLog(v: VertexRecord, stream: 'stdout' | 'stderr', data: string, time: number): void {
  const text = v.partial[stream] + data;
  const lines = text.split('\n');
  v.partial[stream] = lines.pop()!;
  for (const line of lines) pushLine(v, line.replace(/\r$/, ''), time);
}

function flushPartial(v: VertexRecord, time: number): void {
  for (const stream of ['stdout', 'stderr'] as const) {
    if (v.partial[stream]) pushLine(v, v.partial[stream], time);
    v.partial[stream] = '';
  }
}

function pushLine(v: VertexRecord, line: string, time: number): void {
  v.logs.push({ time, line });
  if (v.logs.length > MAX_LOG_LINES) v.logs.splice(0, v.logs.length - MAX_LOG_LINES);
}
