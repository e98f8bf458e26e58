/**
 * `--trace FILE`: the build's vertex timings as a Chrome trace (the Trace
 * Event Format JSON that Perfetto and chrome://tracing open). Each vertex
 * that ran is a complete event (`ph: 'X'`) on the lane (`tid`) it got from
 * assignLanes, so parallel steps show side by side; cache hits are instant
 * events (`ph: 'i'`) on lane 0. Times are microseconds since the build began.
 */
import type { BuildEvent } from '@tsbuild/builder';
import { activeVertices, modelOf } from '../progress/model.js';
import { assignLanes } from './lanes.js';

export interface TraceEvent {
  name: string;
  cat?: string;
  ph: 'X' | 'i' | 'M';
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  s?: 't' | 'p' | 'g';
  args?: Record<string, unknown>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
}

const PID = 1;

export function chromeTrace(events: BuildEvent[]): ChromeTrace {
  const model = modelOf(events);
  const t0 = model.started ?? 0;
  const us = (ms: number) => Math.round((ms - t0) * 1000);
  const end = model.ended ?? Math.max(t0, ...events.map((e) => e.time));
  const vertices = activeVertices(model);
  const timed = assignLanes(vertices, end);
  const lanes = Math.max(1, ...timed.map((t) => t.lane + 1));
  const traceEvents: TraceEvent[] = [{ name: 'process_name', ph: 'M', ts: 0, pid: PID, tid: 1, args: { name: 'tsbuild build' } }];
  for (let i = 0; i < lanes; i++) traceEvents.push({ name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: i + 1, args: { name: `lane ${i + 1}` } });
  for (const t of timed) {
    const v = t.vertex;
    traceEvents.push({
      name: v.name, cat: v.export ? 'export' : 'vertex', ph: 'X', ts: us(t.start), dur: Math.max(0, Math.round((t.end - t.start) * 1000)),
      pid: PID, tid: t.lane + 1,
      args: { id: v.id, step: v.index, state: v.state, ...(v.explain.length ? { rebuilding: v.explain } : {}), ...(v.error ? { error: v.error } : {}) },
    });
  }
  for (const v of vertices.filter((v) => v.state === 'cached')) {
    traceEvents.push({ name: `CACHED ${v.name}`, cat: 'cached', ph: 'i', s: 't', ts: us(v.ended ?? v.started ?? t0), pid: PID, tid: 1, args: { id: v.id, step: v.index } });
  }
  return { traceEvents, displayTimeUnit: 'ms' };
}
