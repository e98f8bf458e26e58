/**
 * The image config BuildKit's exporter writes for a Dockerfile build: the
 * base image config changed by the stage's steps (the frontend computes that
 * as `finalConfig`), `--label`s on top, `history` = the base image's history
 * + one entry per step of every stage on the FROM chain, `rootfs.diff_ids`
 * from the result's layers. A layer step has a layer also when its diff was
 * empty (BuildKit keeps those); only metadata steps, WORKDIR / and a step
 * that added none (steps[i] false) are `empty_layer`.
 *
 * Times, as BuildKit's exporter sets them (exporter/containerimage/writer.go,
 * `normalizeLayersAndHistory`, PR #363 "Reproducible dates"): a step that added
 * a layer takes the time its layer was made (`LayerRef.created`: recorded when
 * the step ran, returned as is by a cache hit); a metadata-only or empty step
 * takes the time of a neighbouring layer step (`fillTimes`). The image's
 * `created` is the last history time. SOURCE_DATE_EPOCH (`epoch`) replaces all of these for the new entries.
 * Pure: the same inputs give the same bytes, so a fully cached rebuild gives
 * the same image digest.
 */
import type { ContainerConfig, HistoryEntry, ImageConfig, Platform } from '@tsbuild/core';
import type { StageGraph, StageNode } from '@tsbuild/dockerfile';
import type { LayerResult } from '../worker/types.js';

export interface ImageConfigInput {
  graph: StageGraph;
  /** The config of the image the FROM chain starts at; undefined for scratch. */
  baseConfig: ImageConfig | undefined;
  result: LayerResult;
  platform: Platform;
  /** ISO 8601 of SOURCE_DATE_EPOCH, when set: the time of every new history entry and of the image. */
  epoch?: string | undefined;
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
  const history = historyOf(input.baseConfig?.history ?? [], chain.flatMap((s) => s.history), input.result, input.epoch);
  const created = input.epoch ?? lastTime(history);
  const author = [...chain].reverse().find((s) => s.author !== undefined)?.author ?? input.baseConfig?.author;
  const out: ImageConfig = {
    architecture: input.platform.architecture,
    config,
    ...(created === undefined ? {} : { created }),
    history,
    os: input.platform.os,
    rootfs: { type: 'layers', diff_ids: input.result.layers.map((l) => l.diffID) },
  };
  if (author !== undefined) out.author = author;
  if (input.platform.variant) out.variant = input.platform.variant;
  return out;
}

/**
 * The base history, then the stage history with `empty_layer` on layer steps
 * that added nothing and each entry's time (see the module comment).
 */
function historyOf(base: HistoryEntry[], entries: HistoryEntry[], result: LayerResult, epoch: string | undefined): HistoryEntry[] {
  const added = result.steps.filter(Boolean).length;
  const newLayers = result.layers.slice(result.layers.length - added);
  let step = 0;
  let layer = 0;
  const own = entries.map(({ created, ...h }) => {
    let time = epoch ?? created;
    let empty = h.empty_layer === true;
    if (!empty) {
      if (result.steps[step++] === false) empty = true;
      else time ??= newLayers[layer]?.created;
      if (!empty) layer++;
    }
    return { created: time, ...h, ...(empty ? { empty_layer: true } : {}) };
  });
  const history = [...base.map((h) => ({ ...h })), ...own];
  if (epoch === undefined) fillTimes(history);
  // Without any time known (scratch, metadata only) the field is left out; `created` first, as Go writes the struct.
  const tidy = ({ created, ...h }: HistoryEntry): HistoryEntry => (created === undefined ? h : { created, ...h });
  return [...history.slice(0, base.length), ...history.slice(base.length).map(tidy)];
}

/**
 * BuildKit's fill of entries without a time: the first run of them takes the
 * time of the first timed entry after it (so a metadata step right after the
 * base does not get a base layer's old time) — or, with none after, the last
 * timed entry; every later one takes the time of the timed entry before it.
 */
function fillTimes(history: HistoryEntry[]): void {
  let created: string | undefined;
  let gap = false;
  for (const h of history) {
    if (h.created !== undefined) {
      created = h.created;
      if (gap) break;
    } else gap = true;
  }
  gap = false;
  for (const h of history) {
    if (h.created !== undefined) {
      if (gap) created = h.created;
    } else {
      gap = true;
      if (created !== undefined) h.created = created;
    }
  }
}

/** The image's time: the last history time (BuildKit's rule when the config sets none). */
function lastTime(history: readonly HistoryEntry[]): string | undefined {
  return history.findLast((h) => h.created !== undefined)?.created;
}
