/**
 * The image config BuildKit's exporter writes for a Dockerfile build: the
 * base image config changed by the stage's steps (the frontend computes that
 * as `finalConfig`), `--label`s on top, `history` = the base image's history
 * + one entry per step of every stage on the FROM chain, `rootfs.diff_ids`
 * from the result's layers. A layer step whose diff was empty is marked
 * `empty_layer` (it has no layer); new history entries get `created`.
 * Pure: the same inputs give the same bytes, hence with SOURCE_DATE_EPOCH
 * the same image digest.
 */
import type { ContainerConfig, HistoryEntry, ImageConfig, Platform } from '@tsbuild/core';
import type { StageGraph, StageNode } from '../frontend/stages/index.js';
import type { LayerResult } from '../worker/types.js';

export interface ImageConfigInput {
  graph: StageGraph;
  /** The config of the image the FROM chain starts at; undefined for scratch. */
  baseConfig: ImageConfig | undefined;
  result: LayerResult;
  platform: Platform;
  /** ISO 8601: the build time, or SOURCE_DATE_EPOCH. */
  created: string;
  labels?: Record<string, string> | undefined;
}

/** The target stage and the stages it is built FROM, root first. */
export function fromChain(graph: StageGraph): StageNode[] {
  const chain: StageNode[] = [];
  for (let s: StageNode | undefined = graph.target; s; s = s.base.kind === 'stage' ? graph.stages[s.base.index] : undefined) chain.unshift(s);
  return chain;
}

export function imageConfigOf(input: ImageConfigInput): ImageConfig {
  const chain = fromChain(input.graph);
  const target = chain.at(-1)!;
  const config: ContainerConfig = { ...target.finalConfig };
  if (input.labels && Object.keys(input.labels).length > 0) config.Labels = { ...(config.Labels ?? {}), ...input.labels };
  const history = [...(input.baseConfig?.history ?? []), ...markEmpty(chain.flatMap((s) => s.history), input.result.steps, input.created)];
  const author = [...chain].reverse().find((s) => s.author !== undefined)?.author ?? input.baseConfig?.author;
  const out: ImageConfig = {
    architecture: input.platform.architecture,
    config,
    created: input.created,
    history,
    os: input.platform.os,
    rootfs: { type: 'layers', diff_ids: input.result.layers.map((l) => l.diffID) },
  };
  if (author !== undefined) out.author = author;
  if (input.platform.variant) out.variant = input.platform.variant;
  return out;
}

/** Copies the stage history, stamping `created` and marking layer steps that added nothing. */
function markEmpty(entries: HistoryEntry[], steps: boolean[], created: string): HistoryEntry[] {
  let i = 0;
  return entries.map((h) => {
    const entry: HistoryEntry = { created, ...h };
    if (!h.empty_layer && steps[i++] === false) entry.empty_layer = true;
    return entry;
  });
}
