/**
 * The build's progress events: what `build()` emits and every progress UI
 * (tty, plain, json, --trace, --report) consumes. Plain data; `time` is epoch
 * milliseconds. Vertex events are the solver's, re-emitted with the time and
 * the build's own vertex id (the vertex digest).
 */
import type { Digest, SourceRange } from '@tsbuild/core';
import type { PlannedVertex } from '../definition/plan.js';
import type { MissReason } from '../solver/index.js';

export type { PlannedVertex };

export interface BuildWarning {
  rule: string;
  message: string;
  file?: string;
  range?: SourceRange;
  url?: string;
}

export type BuildEvent =
  | { type: 'build.plan'; time: number; vertices: PlannedVertex[] }
  | { type: 'vertex.started'; time: number; id: Digest; name: string }
  | { type: 'vertex.cached'; time: number; id: Digest; name: string }
  | { type: 'vertex.completed'; time: number; id: Digest; name: string; durationMs: number }
  | { type: 'vertex.failed'; time: number; id: Digest; name: string; durationMs: number; message: string }
  | { type: 'vertex.log'; time: number; id: Digest; name: string; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'vertex.explain'; time: number; id: Digest; name: string; reasons: MissReason[]; text: string[] }
  | { type: 'warning'; time: number; warning: BuildWarning }
  | { type: 'export.started'; time: number; id: string; name: string }
  | { type: 'export.completed'; time: number; id: string; name: string; durationMs: number }
  | { type: 'build.completed'; time: number; durationMs: number; digest?: Digest; tags: string[] }
  | { type: 'build.failed'; time: number; durationMs: number; message: string };

export type BuildEventListener = (event: BuildEvent) => void;
