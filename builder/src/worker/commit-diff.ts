/**
 * Active snapshot → layer blob + committed snapshot named by the new chain
 * id. The diff is streamed (overlay: the upper dir; copy snapshotter: a tree
 * comparison with the parent) through the compressor into the content store.
 *
 * An empty diff (a RUN that wrote nothing) adds no layer: the temp snapshot is
 * dropped and the parent's stack is returned with a `false` step flag, which
 * the exporter turns into `empty_layer: true` (BuildKit drops empty layers).
 * The new layer carries the time it was made (`created`), which the exporter
 * uses for the step's history entry.
 * A commit losing to a concurrent build of the same chain (`AlreadyExists`)
 * reuses the winner's snapshot.
 */
import { isAlreadyExists, isNotFound } from '@tsbuild/core';
import { chainIds, packOverlayDiff, packTreeDiff, writeLayer } from '@tsbuild/store';
import { lowerDirsOf, pruneCopyUps } from './prune-copy-ups.js';
import type { Worker } from './worker.js';
import { EMPTY_DIFF_ID, type LayerResult } from './types.js';

export async function commitDiff(w: Worker, tmpKey: string, parent: LayerResult, { signal }: { signal: AbortSignal }): Promise<LayerResult> {
  const snap = w.snapshotter;
  try {
    if (snap.kind === 'overlay') await pruneCopyUps(snap.dir(tmpKey), lowerDirsOf(await snap.mounts(tmpKey)));
    const pack = { signal, ...(w.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: w.sourceDateEpoch }) };
    const tar =
      snap.kind === 'overlay'
        ? packOverlayDiff({ upperDir: snap.dir(tmpKey), lowerDirs: [] }, pack)
        : packTreeDiff({ lowerDir: parent.snapshot === undefined ? undefined : snap.dir(parent.snapshot), upperDir: snap.dir(tmpKey) }, pack);
    const layer = await writeLayer(tar, w.store.content, { signal, flavor: w.flavor, ...(w.compression ? { compression: w.compression } : {}) });
    if (layer.diffID === EMPTY_DIFF_ID) {
      await snap.remove(tmpKey);
      return { ...parent, steps: [...parent.steps, false] };
    }
    const layers = [...parent.layers, { ...layer, created: new Date().toISOString() }];
    const chainId = chainIds(layers.map((l) => l.diffID)).at(-1)!;
    await w.hold({ blobs: [layer.descriptor.digest], snapshots: [chainId] });
    await commitOrReuse(w, chainId, tmpKey);
    return stackResult(layers, chainId, [...parent.steps, true]);
  } catch (err) {
    await snap.remove(tmpKey).catch(() => undefined);
    throw err;
  }
}

/** Commits `tmpKey` as `name`; when `name` already exists (a concurrent build) drops `tmpKey` and reuses it. */
export async function commitOrReuse(w: Worker, name: string, tmpKey: string): Promise<void> {
  try {
    await w.snapshotter.commit(name, tmpKey);
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    await w.snapshotter.remove(tmpKey);
  }
}

export async function isCommitted(w: Worker, key: string): Promise<boolean> {
  try {
    return (await w.snapshotter.stat(key)).kind === 'committed';
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

export function stackResult(layers: LayerResult['layers'], chainId: string, steps: boolean[]): LayerResult {
  return { snapshot: chainId, layers, contentDigest: chainId, blobs: layers.map((l) => l.descriptor.digest), snapshots: [chainId], steps };
}
