/**
 * One frame of the `tty` progress UI (buildx's display.go look), as a pure
 * function of the progress model and the current time:
 *
 *   [+] Building 3.2s (4/7)
 *    => CACHED [base 1/3] FROM busybox:latest          0.0s
 *    => [base 2/3] RUN make                            2.1s
 *    => => rebuilding: file "input.txt" changed
 *    => => # the last few lines of its output
 *
 * Why a step ran (the solver's explanation of a cache miss) shows as
 * ` => => rebuilding: …` sub-lines under the step, live and in the final frame,
 * as the plain UI's `#N rebuilding:` lines do. A successful final frame ends
 * with the export's manifest digest and names, as buildx's `exporting to image`
 * sub-steps (` => => exporting manifest sha256:…`, ` => => naming to …`).
 *
 * Colour follows BuildKit's progressui (display.go, `(*display).print`): a
 * completed step's line in `colorRun`, a canceled one in `colorCancel`, a failed
 * one in `colorError`, running steps uncoloured, output lines `aec.Faint`;
 * palette from colors.ts (NO_COLOR, BUILDKIT_COLORS). Colour is
 * applied after a line is cut to width, so codes never count as columns.
 *
 * While the build runs, each running step shows its last TAIL_LINES lines of
 * output; the final frame collapses to one line per step plus the warnings.
 * Lines are cut to `width` so a frame never wraps (the writer moves the cursor
 * up by the number of lines it printed, which wrapping would break).
 */
import { activeVertices, type ProgressModel, type VertexRecord } from './model.js';
import { formatWarning, seconds } from './format.js';
import { escapeControls } from '../terminal-text.js';
import { RESET, type Palette } from './colors.js';

export const TAIL_LINES = 6;

export interface FrameOptions {
  /** Terminal columns; default 80. */
  width?: number;
  /** The build is over: print the collapsed summary frame. */
  final?: boolean;
  /** Colours to use (colors.ts `paletteFromEnv`; none for NO_COLOR); default none. */
  palette?: Palette;
}

export function renderTtyFrame(model: ProgressModel, now: number, options: FrameOptions = {}): string[] {
  const width = Math.max(40, options.width ?? 80);
  const final = options.final ?? model.result !== undefined;
  const vertices = activeVertices(model);
  const steps = vertices.filter((v) => !v.export);
  const total = Math.max(steps.length, [...model.vertices.values()].filter((v) => !v.export).length);
  const finished = steps.filter((v) => v.state === 'cached' || v.state === 'done').length;
  const elapsed = (model.ended ?? now) - (model.started ?? now);
  const status = !final ? '' : model.result?.ok === false ? ' FAILED' : ' FINISHED';
  const paint = (line: string, c: keyof Palette | undefined) => (options.palette && c ? options.palette[c] + line + RESET : line);
  const lines = [fit(`[+] Building ${seconds(elapsed)} (${finished}/${total})${status}`, width)];
  // A step left running when the build ended was canceled; its timer stops with the build.
  const clock = model.ended ?? now;
  for (const v of vertices) {
    lines.push(paint(stepLine(v, clock, width, final), stepColor(v, final)));
    if (v.state !== 'cached') for (const why of v.explain) lines.push(fit(` => => rebuilding: ${oneLine(why)}`, width));
    if (!final && v.state === 'running') {
      const tail = v.logs.slice(-TAIL_LINES).map((l) => l.line);
      for (const p of [v.partial.stdout, v.partial.stderr]) if (p) tail.push(p);
      for (const line of tail.slice(-TAIL_LINES)) lines.push(paint(fit(` => => # ${printable(line)}`, width), 'faint'));
    }
    if (v.state === 'error') {
      for (const l of v.logs.slice(-TAIL_LINES)) lines.push(paint(fit(` => => # ${printable(l.line)}`, width), 'faint'));
    }
  }
  // Not cut to width: the final frame is never redrawn, and a cut digest is no use.
  if (final && model.result?.ok) {
    if (model.result.digest) lines.push(paint(` => => exporting manifest ${model.result.digest}`, 'run'));
    // The exporter may have shown `naming to` as its own step already (plain.ts does the same check).
    const named = vertices.some((v) => v.export && v.name.startsWith('naming to'));
    if (!named) for (const tag of model.result.tags) lines.push(paint(` => => naming to ${oneLine(tag)}`, 'run'));
  }
  if (final && model.warnings.length) {
    lines.push('', ` ${model.warnings.length} warning${model.warnings.length === 1 ? '' : 's'} found:`);
    for (const w of model.warnings) lines.push(fit(` - ${formatWarning(w)}`, width));
  }
  return lines;
}

function stepLine(v: VertexRecord, now: number, width: number, final: boolean): string {
  const marker = v.state === 'cached' ? 'CACHED ' : v.state === 'error' ? 'ERROR ' : final && v.state === 'running' ? 'CANCELED ' : '';
  const ms = v.durationMs ?? (v.ended ?? now) - (v.started ?? now);
  const time = v.state === 'cached' ? seconds(0) : seconds(ms);
  const label = ` => ${marker}${printable(v.name)}`;
  const room = width - time.length - 1;
  const head = label.length > room ? label.slice(0, Math.max(0, room - 1)) + '…' : label;
  return head.padEnd(room) + ' ' + time;
}

/** BuildKit colours a job's line once it is completed (display.go); running lines stay plain. */
function stepColor(v: VertexRecord, final: boolean): keyof Palette | undefined {
  if (v.state === 'error') return 'error';
  if (v.state === 'running') return final ? 'cancel' : undefined;
  return v.state === 'cached' || v.state === 'done' ? 'run' : undefined;
}

/** User text in our own lines (explanations quote paths and build args; tags): escaped, one line. */
function oneLine(s: string): string {
  return escapeControls(s).replace(/\n/g, '\\n').replace(/\t/g, ' ');
}

function fit(line: string, width: number): string {
  return line.length > width ? line.slice(0, width - 1) + '…' : line;
}

/** Control characters in step output would move the cursor under us. */
function printable(s: string): string {
  return s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').replace(/\t/g, '  ');
}
