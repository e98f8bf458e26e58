/** Small shared spellings of the printers: a stage's label, its base, a location. */
import { formatPlatform, type SourceRange } from '@tsbuild/core';
import type { StageGraph, StageNode, StepSource } from '../stages/index.js';

export const stageLabel = (s: StageNode): string => (s.name ? `#${s.index} ${s.name}` : `#${s.index}`);

export function baseLabel(graph: StageGraph, s: StageNode): string {
  const b = s.base;
  if (b.kind === 'scratch') return 'scratch';
  if (b.kind === 'image') return b.ref;
  return `stage ${stageLabel(graph.stages[b.index]!)}`;
}

export function sourceLabel(graph: StageGraph, src: StepSource): string {
  return src.kind === 'image' ? src.ref : `stage ${stageLabel(graph.stages[src.index]!)}`;
}

export const location = (file: string, r: SourceRange): string => `${file}:${r.start.line}:${r.start.character + 1}`;

export const platformLabel = (s: StageNode): string => formatPlatform(s.platform);
