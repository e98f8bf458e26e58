/** Small text helpers shared by the progress UIs, --check and the report. */
import type { BuildWarning } from '@tsbuild/builder';
import { escapeControls } from '../terminal-text.js';

/** `0.3s`, like BuildKit's `DONE 0.3s` (one decimal, never negative). */
export function seconds(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)}s`;
}

/** `Rule: message (Dockerfile:3)` — BuildKit's one-line warning, control characters escaped (it quotes user text). */
export function formatWarning(w: BuildWarning): string {
  const where = w.range ? ` (${w.file ?? 'Dockerfile'}:${w.range.start.line})` : '';
  return escapeControls(`${w.rule}: ${w.message}${where}`);
}

/** `Dockerfile:3:1` for a warning with a range (column 1-based), else the file. */
export function warningLocation(w: BuildWarning, file = 'Dockerfile'): string {
  const f = w.file ?? file;
  return w.range ? `${f}:${w.range.start.line}:${w.range.start.character + 1}` : f;
}
