/**
 * Vertex names as BuildKit's dockerfile2llb prints them: `[name i/n] CMD`,
 * where the stage name is the `AS` name (or `stage-<index>` in a multi-stage
 * file), `n` counts FROM plus each layer-making step, and `i` is padded to the
 * width of `n` (`[ 2/10]`).
 */
import { formatPlatform, normalizePlatform, type Platform } from '@tsbuild/core';
import type { StageGraph, StageNode } from '@tsbuild/dockerfile';

export function stageLabel(graph: StageGraph, stage: StageNode): string {
  return stage.name ?? (graph.stages.length > 1 ? `stage-${stage.index}` : '');
}

export function stepName(label: string, index: number, total: number, text: string): string {
  const width = String(total).length;
  const counter = `${String(index).padStart(width, ' ')}/${total}`;
  return `[${label ? `${label} ` : ''}${counter}] ${text}`;
}

/**
 * A multi-platform build's prefix, as dockerfile2llb's prefixCommand writes it when
 * MultiPlatformRequested (platforms.FormatAll of the normalized platform: arm64's default
 * variant v8 is not shown). Also the name of a platform in messages and output directories. Its `->arm64` suffix, for a stage declaring TARGET* args
 * (formatTargetPlatform), is not written.
 */
export function platformLabel(p: Platform): string {
  return formatPlatform(normalizePlatform(p));
}
