/**
 * Lanes for a timeline: each timed vertex goes to the lowest lane free at its
 * start, so steps that ran at the same time sit side by side (Perfetto
 * threads in --trace, rows in the --report timeline). Pure.
 */
import type { VertexRecord } from '../progress/model.js';

export interface TimedVertex {
  vertex: VertexRecord;
  start: number;
  end: number;
  lane: number;
}

/** Vertices that ran (not cached, with a start), with a lane each, ordered by start. */
export function assignLanes(vertices: VertexRecord[], now: number): TimedVertex[] {
  const timed = vertices
    .filter((v) => v.state !== 'cached' && v.started !== undefined)
    .map((v) => ({ vertex: v, start: workStart(v), end: v.ended ?? now, lane: 0 }))
    .sort((a, b) => a.start - b.start || a.vertex.index - b.vertex.index);
  const laneEnds: number[] = [];
  for (const t of timed) {
    let lane = laneEnds.findIndex((end) => end <= t.start);
    if (lane < 0) lane = laneEnds.length;
    laneEnds[lane] = t.end;
    t.lane = lane;
  }
  return timed;
}

/**
 * When a finished vertex's work began: its end less the solver's duration,
 * which counts from when the op held its slot — or, for an eager COPY, from
 * when it began copying, before the solver announced it. Else its start event.
 */
function workStart(v: VertexRecord): number {
  return v.ended !== undefined && v.durationMs !== undefined ? v.ended - v.durationMs : v.started!;
}
