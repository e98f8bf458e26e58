/**
 * Vertex names as BuildKit's dockerfile2llb prints them: `[name i/n] CMD`,
 * where the stage name is the `AS` name (or `stage-<index>` in a multi-stage
 * file), `n` counts FROM plus each layer-making step, and `i` is padded to the
 * width of `n` (`[ 2/10]`).
 */
import type { StageGraph, StageNode } from '@tsbuild/dockerfile';

export function stageLabel(graph: StageGraph, stage: StageNode): string {
  return stage.name ?? (graph.stages.length > 1 ? `stage-${stage.index}` : '');
}

export function stepName(label: string, index: number, total: number, text: string): string {
  const width = String(total).length;
  const counter = `${String(index).padStart(width, ' ')}/${total}`;
  return `[${label ? `${label} ` : ''}${counter}] ${text}`;
}
