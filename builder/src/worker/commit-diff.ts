/**
 * Active snapshot → layer blob + committed snapshot named by the new chain
 * id. The diff is streamed (overlay: the upper dir; copy snapshotter: a tree
 * comparison with the parent) through the compressor into the content store.
 *
 * An empty diff (a RUN that wrote nothing) still adds a layer, the empty tar
 * (diffID EMPTY_TAR_DIFF_ID), as BuildKit's does: its exporter keeps one layer per
 * layer step (exporter/containerimage/writer.go, normalizeLayersAndHistory,
 * only reconciles the history with the layers it is given), so layer counts,
 * diff_ids and `docker history` agree with BuildKit's image.
 * The new layer carries the time it was made (`created`), which the exporter
 * uses for the step's history entry.
 * A commit losing to a concurrent build of the same chain (`AlreadyExists`)
 * reuses the winner's snapshot.
 */
import { isAlreadyExists, isNotFound } from '@tsbuild/core';
import { chainIds, packOverlayDiff, packTreeDiff, writeLayer, type CommitOptions, type LayerInfo } from '@tsbuild/store';
import { lowerDirsOf, pruneCopyUps } from './prune-copy-ups.js';
import type { Worker } from './worker.js';
import type { LayerResult } from './types.js';

export async function commitDiff(w: Worker, tmpKey: string, parent: LayerResult, { signal }: { signal: AbortSignal }): Promise<LayerResult> {
  const layer = await diffLayer(w, tmpKey, parent, { signal });
  return commitLayer(w, tmpKey, parent, layer);
}

/**
 * The first half of commitDiff: the active snapshot's diff as a layer blob in
 * the store (the snapshot stays active). `base` is what the snapshot was
 * prepared on.
 */
export async function diffLayer(w: Worker, tmpKey: string, base: LayerResult, { signal }: { signal: AbortSignal }): Promise<LayerInfo> {
  const snap = w.snapshotter;
  try {
    if (snap.kind === 'overlay') await pruneCopyUps(snap.dir(tmpKey), lowerDirsOf(await snap.mounts(tmpKey)));
    const pack = { signal, ...(w.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: w.sourceDateEpoch }) };
    const tar =
      snap.kind === 'overlay'
        ? packOverlayDiff({ upperDir: snap.dir(tmpKey), lowerDirs: [] }, pack)
        : packTreeDiff({ lowerDir: base.snapshot === undefined ? undefined : snap.dir(base.snapshot), upperDir: snap.dir(tmpKey) }, pack);
    return await writeLayer(tar, w.store.content, { signal, flavor: w.flavor, ...(w.compression ? { compression: w.compression } : {}) });
  } catch (err) {
    await snap.remove(tmpKey).catch(() => undefined);
    throw err;
  }
}

/**
 * The second half: commits the active snapshot as `parent` plus `layer`. With
 * `rebase`, `parent` is a descendant of what the snapshot was prepared on
 * (overlay only; see FileOp for when that yields the same tree).
 */
export async function commitLayer(w: Worker, tmpKey: string, parent: LayerResult, layer: LayerInfo, options: { rebase?: boolean } = {}): Promise<LayerResult> {
  try {
    const layers = [...parent.layers, { ...layer, created: new Date().toISOString() }];
    const chainId = chainIds(layers.map((l) => l.diffID)).at(-1)!;
    await w.hold({ blobs: [layer.descriptor.digest], snapshots: [chainId] });
    await commitOrReuse(w, chainId, tmpKey, options.rebase ? rebaseOnto(parent) : {});
    return stackResult(layers, chainId, [...parent.steps, true]);
  } catch (err) {
    await w.snapshotter.remove(tmpKey).catch(() => undefined);
    throw err;
  }
}

function rebaseOnto(parent: LayerResult): CommitOptions {
  return { ...(parent.snapshot === undefined ? {} : { parent: parent.snapshot }), labels: { 'tsbuild.rebased': 'true' } };
}

/** Commits `tmpKey` as `name`; when `name` already exists (a concurrent build) drops `tmpKey` and reuses it. */
export async function commitOrReuse(w: Worker, name: string, tmpKey: string, options: CommitOptions = {}): Promise<void> {
  try {
    await w.snapshotter.commit(name, tmpKey, options);
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
