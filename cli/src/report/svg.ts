/**
 * The report's two pictures as inline SVG strings: the DAG (vertices by depth,
 * edges as curves) and the timeline (one bar per vertex that ran, on its
 * lane). Pure; every name goes through `escapeHtml`.
 */
import type { VertexRecord } from '../progress/model.js';
import type { TimedVertex } from '../trace/lanes.js';
import type { DagLayout } from './dag-layout.js';

const NODE_W = 220;
const NODE_H = 42;
/** Characters of a 12px monospace label that fit in a node, per line. */
const LABEL_CHARS = 29;
const GAP_X = 60;
const GAP_Y = 16;

export function dagSvg(layout: DagLayout): string {
  const width = Math.max(1, layout.columns) * (NODE_W + GAP_X) + 20;
  const height = Math.max(1, layout.rows) * (NODE_H + GAP_Y) + 20;
  const pos = layout.nodes.map((n) => ({ x: 10 + n.column * (NODE_W + GAP_X), y: 10 + n.row * (NODE_H + GAP_Y) }));
  const edges = layout.edges.map(([from, to]) => {
    const a = pos[from]!;
    const b = pos[to]!;
    const x1 = a.x + NODE_W, y1 = a.y + NODE_H / 2, x2 = b.x, y2 = b.y + NODE_H / 2;
    return `<path class="edge" d="M${x1},${y1} C${x1 + GAP_X / 2},${y1} ${x2 - GAP_X / 2},${y2} ${x2},${y2}"/>`;
  });
  const nodes = layout.nodes.map((n, i) => {
    const { x, y } = pos[i]!;
    const v = n.vertex;
    return `<g class="node ${v.state}"><title>${escapeHtml(tooltip(v))}</title>` +
      `<rect x="${x}" y="${y}" width="${NODE_W}" height="${NODE_H}" rx="5"/>` +
      `<text x="${x + 8}" y="${y + 16}">${wrapLabel(label(v)).map((line, k) => `<tspan x="${x + 8}" dy="${k === 0 ? 0 : 15}">${escapeHtml(line)}</tspan>`).join('')}</text></g>`;
  });
  return `<svg class="dag" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="build graph">${edges.join('')}${nodes.join('')}</svg>`;
}

const BAR_H = 22;

/**
 * The timeline fills the page's width whatever it is: positions are
 * percentages of the span, so text keeps its size (a viewBox would scale it).
 * Each bar is a nested <svg>, which clips its label at the bar's end.
 */
export function timelineSvg(timed: TimedVertex[], t0: number, t1: number): string {
  const lanes = Math.max(1, ...timed.map((t) => t.lane + 1));
  const span = Math.max(1, t1 - t0);
  const pct = (ms: number) => `${((ms / span) * 100).toFixed(2)}%`;
  const height = lanes * (BAR_H + 6) + 30;
  const bars = timed.map((t) => {
    const y = 6 + t.lane * (BAR_H + 6);
    const v = t.vertex;
    return `<g class="bar ${v.state}"><title>${escapeHtml(`#${v.index} ${v.name}: ${((t.end - t.start) / 1000).toFixed(2)}s`)}</title>` +
      `<svg x="${pct(t.start - t0)}" y="${y}" width="${pct(Math.max(span / 500, t.end - t.start))}" height="${BAR_H}">` +
      `<rect x="0.5" y="0.5" width="100%" height="${BAR_H - 1}" rx="3"/>` +
      `<text x="4" y="15">${escapeHtml(`#${v.index} ${v.name}`)}</text></svg></g>`;
  });
  const axisY = lanes * (BAR_H + 6) + 18;
  const ticks = axisTicks(span).map((ms) =>
    `<text class="tick" x="${pct(ms)}" y="${axisY}" text-anchor="middle">${tickLabel(ms, span)}</text>`);
  return `<svg class="timeline" width="100%" height="${height}" role="img" aria-label="timeline">${bars.join('')}${ticks.join('')}</svg>`;
}

/**
 * Axis tick positions in ms from the build's start: 0 and every multiple of a
 * "nice" step (1, 2 or 5 × 10^k ms) up to the span, three to seven of them, so the
 * labels are distinct and increasing however short the build was.
 */
export function axisTicks(spanMs: number): number[] {
  const raw = Math.max(1, spanMs) / 6;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = 0; t <= spanMs + 1e-9; t += step) ticks.push(Math.round(t * 1000) / 1000);
  return ticks;
}

/** A tick's label: milliseconds under a second of span, else seconds with as many decimals as the step needs. */
export function tickLabel(ms: number, spanMs: number): string {
  if (spanMs < 1000) return `${Math.round(ms)}ms`;
  const step = axisTicks(spanMs)[1] ?? spanMs;
  const decimals = step >= 1000 ? 0 : step >= 100 ? 1 : 2;
  return `${(ms / 1000).toFixed(decimals)}s`;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function label(v: VertexRecord): string {
  return v.index ? `#${v.index} ${v.name}` : v.name;
}

function tooltip(v: VertexRecord): string {
  return [label(v), v.state, ...v.explain.map((e) => `rebuilding: ${e}`), ...(v.error ? [`error: ${v.error}`] : [])].join('\n');
}

/**
 * A node's label in at most two lines: the step prefix (`#3 [stage 2/4]`) on
 * the first, the instruction on the second, the tail clipped with `…` — the
 * node's <title> carries the whole name for hovering.
 */
function wrapLabel(s: string): string[] {
  if (s.length <= LABEL_CHARS) return [s];
  const bracket = s.indexOf('] ');
  const cut = bracket > 0 && bracket < LABEL_CHARS ? bracket + 1 : s.lastIndexOf(' ', LABEL_CHARS) > 0 ? s.lastIndexOf(' ', LABEL_CHARS) : LABEL_CHARS;
  return [s.slice(0, cut), clip(s.slice(cut).trimStart(), LABEL_CHARS)];
}

function clip(s: string, n: number): string {
  if (n <= 1) return '';
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}
