/**
 * Progress writers: the thin, impure side of the progress UIs. Each mode's
 * text comes from a pure renderer (plain.ts, json.ts, rawjson.ts, tty-frame.ts); a
 * writer only decides when to write it to the stream.
 *
 * Lifecycle: `onEvent` for every BuildEvent, then `close()` once (after the
 * build settles, success or not) — close writes the final tty frame and
 * stops its timer.
 */
import type { Writable } from 'node:stream';
import type { BuildEvent } from '@tsbuild/builder';
import { paletteFromEnv, type Palette } from './colors.js';
import { renderJsonEvent } from './json.js';
import { applyEvent, createModel } from './model.js';
import { createPlainRenderer } from './plain.js';
import { createRawJsonRenderer } from './rawjson.js';
import { renderTtyFrame } from './tty-frame.js';

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json' | 'rawjson' | 'quiet';
export const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'tty', 'plain', 'json', 'rawjson', 'quiet'];

export interface ProgressWriter {
  onEvent(event: BuildEvent): void;
  close(): void;
}

/** `auto` is tty on a terminal and plain otherwise (CI logs, pipes), like buildx. */
export function resolveMode(mode: ProgressMode, isTTY: boolean): Exclude<ProgressMode, 'auto'> {
  return mode === 'auto' ? (isTTY ? 'tty' : 'plain') : mode;
}

/** `env` is read for NO_COLOR and BUILDKIT_COLORS (tty mode only). */
export function createProgressWriter(
  mode: ProgressMode,
  out: Writable & { isTTY?: boolean; columns?: number; rows?: number },
  env: NodeJS.ProcessEnv = process.env,
): ProgressWriter {
  switch (resolveMode(mode, out.isTTY === true)) {
    case 'quiet':
      return { onEvent() {}, close() {} };
    case 'json':
      return { onEvent: (e) => void out.write(renderJsonEvent(e)), close() {} };
    case 'rawjson': {
      const r = createRawJsonRenderer();
      return { onEvent: (e) => void out.write(r.push(e)), close() {} };
    }
    case 'plain': {
      const r = createPlainRenderer();
      return {
        onEvent: (e) => {
          const text = r.push(e);
          if (text) out.write(text);
        },
        close() {},
      };
    }
    case 'tty':
      return ttyWriter(out, paletteFromEnv(env));
  }
}

/** At most this often: redrawing on every log line would cost more than the build. */
const REDRAW_MS = 100;

/** `palette`: undefined for no colour (NO_COLOR), see colors.ts. */
function ttyWriter(out: Writable & { columns?: number; rows?: number }, palette: Palette | undefined): ProgressWriter {
  const model = createModel();
  let printed = 0;
  let closed = false;
  const draw = (final: boolean) => {
    if (model.started === undefined) return; // nothing to show yet (or the build never began)
    let lines = renderTtyFrame(model, Date.now(), { width: out.columns || 80, final, ...(palette ? { palette } : {}) });
    const rows = out.rows || 0;
    // The cursor cannot move above the screen's top: a live frame keeps to the screen.
    if (!final && rows > 2 && lines.length > rows - 1) lines = [lines[0]!, ...lines.slice(lines.length - (rows - 2))];
    const up = printed > 0 ? `\x1b[${printed}A\r` : '';
    out.write(up + lines.map((l) => `\x1b[2K${l}\n`).join('') + '\x1b[J');
    printed = lines.length;
  };
  const timer = setInterval(() => draw(false), REDRAW_MS);
  timer.unref();
  return {
    onEvent(e) {
      if (!closed) applyEvent(model, e);
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      draw(true);
    },
  };
}
