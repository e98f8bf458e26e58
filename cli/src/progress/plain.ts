/**
 * The `plain` progress UI: BuildKit's plain printer (progressui/printer.go's
 * textMux) as a pure function of events → text. Each vertex gets `#N` in
 * order of first activity; its block is the name, then its output lines
 * prefixed with seconds since it started, then CACHED / DONE / ERROR. When
 * output of another vertex interleaves, the interrupted block is closed with
 * `#N ...` and reopened with its header, as BuildKit does, so a log can be
 * read by grepping `#N `.
 *
 * Our addition: why a step missed the cache, as `#N rebuilding: …` lines
 * right after its start line.
 *
 * User text in our own lines (step names are Dockerfile lines; explanations
 * quote build args and paths; errors, tags) has its control characters escaped
 * (terminal-text.ts). A step's output is printed as it came, as BuildKit's
 * printer does (printer.go, textMux.printVtx: `fmt.Fprintf(p.w, "#%d %s", v.index, l)`).
 */
import { explainLines } from './explain-lines.js';
import type { BuildEvent } from '@tsbuild/builder';
import { formatWarning, seconds } from './format.js';
import { escapeControls } from '../terminal-text.js';

export interface PlainRenderer {
  /** The text this event adds (possibly empty). */
  push(event: BuildEvent): string;
}

interface PlainState {
  index: Map<string, number>;
  names: Map<string, string>;
  started: Map<string, number>;
  /** Vertices whose block has ended (CACHED, DONE, ERROR). */
  ended: Set<string>;
  /** Vertex whose block is open (its header is the last header printed). */
  current?: string;
  /** Explanations that arrived before their vertex started. */
  explain: Map<string, string[]>;
  partial: Map<string, string>;
  finished: number;
  cached: number;
  warnings: string[];
  exportStart?: number;
  exportNamed: boolean;
}

const EXPORT_ID = 'export:';

export function createPlainRenderer(): PlainRenderer {
  const s: PlainState = {
    index: new Map(), names: new Map(), started: new Map(), ended: new Set(), explain: new Map(), partial: new Map(),
    finished: 0, cached: 0, warnings: [], exportNamed: false,
  };
  return { push: (event) => render(s, event) };
}

/** The whole plain output of an event sequence (what tests compare). */
export function renderPlain(events: Iterable<BuildEvent>): string {
  const r = createPlainRenderer();
  let out = '';
  for (const e of events) out += r.push(e);
  return out;
}

function render(s: PlainState, e: BuildEvent): string {
  switch (e.type) {
    case 'build.plan':
      return '';
    case 'vertex.started': {
      s.started.set(e.id, e.time);
      let out = open(s, e.id, e.name);
      for (const line of s.explain.get(e.id) ?? []) out += `#${s.index.get(e.id)} rebuilding: ${escapeControls(line)}\n`;
      s.explain.delete(e.id);
      return out;
    }
    case 'vertex.explain':
      if (!s.started.has(e.id)) {
        s.explain.set(e.id, explainLines(e));
        return '';
      }
      {
        const lines = explainLines(e);
        if (lines.length === 0) return '';
        return open(s, e.id, e.name) + lines.map((l) => `#${s.index.get(e.id)} rebuilding: ${escapeControls(l)}\n`).join('');
      }
    case 'vertex.log': {
      const key = `${e.id}\0${e.stream}`;
      const lines = ((s.partial.get(key) ?? '') + e.data).split('\n');
      s.partial.set(key, lines.pop()!);
      if (lines.length === 0) return '';
      return open(s, e.id, e.name) + lines.map((l) => logLine(s, e.id, l, e.time)).join('');
    }
    case 'vertex.cached':
      s.cached++;
      s.finished++;
      return close(s, e.id, open(s, e.id, e.name) + `#${s.index.get(e.id)} CACHED\n`);
    case 'vertex.completed':
      s.finished++;
      return close(s, e.id, open(s, e.id, e.name) + flush(s, e.id, e.time) + `#${s.index.get(e.id)} DONE ${seconds(e.durationMs)}\n`);
    case 'vertex.failed':
      return close(s, e.id, open(s, e.id, e.name) + flush(s, e.id, e.time) + `#${s.index.get(e.id)} ERROR: ${escapeControls(e.message)}\n`);
    case 'warning':
      s.warnings.push(formatWarning(e.warning));
      return '';
    case 'export.started':
      s.exportStart ??= e.time;
      return open(s, EXPORT_ID, 'exporting to image');
    case 'export.completed':
      s.exportStart ??= e.time - e.durationMs;
      if (e.name.startsWith('naming to')) s.exportNamed = true;
      return open(s, EXPORT_ID, 'exporting to image') + `#${s.index.get(EXPORT_ID)} ${escapeControls(e.name)} ${seconds(e.durationMs)} done\n`;
    case 'build.completed': {
      let out = '';
      if (s.exportStart !== undefined || e.tags.length > 0) {
        out += open(s, EXPORT_ID, 'exporting to image');
        const n = s.index.get(EXPORT_ID);
        if (e.digest) out += `#${n} exporting manifest ${e.digest} done\n`;
        if (!s.exportNamed) for (const tag of e.tags) out += `#${n} naming to ${escapeControls(tag)} done\n`;
        out += close(s, EXPORT_ID, `#${n} DONE ${seconds(e.time - (s.exportStart ?? e.time))}\n`);
      }
      return out + footer(s, `FINISHED in ${seconds(e.durationMs)}`);
    }
    case 'build.failed': {
      // Steps still running were stopped by the failure (or Ctrl-C): BuildKit's CANCELED.
      let out = '';
      for (const id of s.started.keys()) {
        if (s.ended.has(id)) continue;
        out += close(s, id, open(s, id, s.names.get(id)!) + flush(s, id, e.time) + `#${s.index.get(id)} CANCELED\n`);
      }
      // A build that failed before any step (a Dockerfile parse error, a bad flag value) has no
      // steps to sum up: the error line says it all, as buildx prints only its ERROR then.
      if (s.index.size === 0) return s.warnings.length ? '\n' + s.warnings.map((w) => `WARN: ${w}\n`).join('') : '';
      return out + footer(s, `FAILED after ${seconds(e.durationMs)}`);
    }
  }
}

/** Makes `id` the open block: closes the interrupted one with `#N ...`, prints the header. */
function open(s: PlainState, id: string, name: string): string {
  if (s.current === id) return '';
  let out = '';
  if (s.current !== undefined && s.current !== id) out += `#${s.index.get(s.current)} ...\n`;
  if (!s.index.has(id)) s.index.set(id, s.index.size + 1);
  s.names.set(id, name);
  s.current = id;
  return `${out}\n#${s.index.get(id)} ${escapeControls(name)}\n`;
}

function close(s: PlainState, id: string, text: string): string {
  s.ended.add(id);
  if (s.current === id) s.current = undefined;
  return text;
}

function logLine(s: PlainState, id: string, line: string, time: number): string {
  const since = (time - (s.started.get(id) ?? time)) / 1000;
  return `#${s.index.get(id)} ${since.toFixed(3)} ${line.replace(/\r$/, '')}\n`;
}

/** A step's last output line without a newline, printed before its end line. */
function flush(s: PlainState, id: string, time: number): string {
  let out = '';
  for (const stream of ['stdout', 'stderr']) {
    const key = `${id}\0${stream}`;
    const rest = s.partial.get(key);
    if (rest) out += logLine(s, id, rest, time);
    s.partial.delete(key);
  }
  return out;
}

function footer(s: PlainState, status: string): string {
  const warnings = s.warnings.length ? '\n' + s.warnings.map((w) => `WARN: ${w}\n`).join('') : '';
  const cached = s.cached ? `, ${s.cached} cached` : '';
  return `${warnings}\n${status}: ${s.finished} step${s.finished === 1 ? '' : 's'}${cached}\n`;
}
