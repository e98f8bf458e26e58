/**
 * A source's result (HTTP download, git checkout): a snapshot on an empty
 * base, filled by `fill` while mounted, committed as a one-layer stack. Its
 * consumers copy out of it (`ADD <url>` is a copy from this result into the
 * step's tree), as BuildKit's sources are snapshots of their own.
 */
import type { ExecContext } from '../solver/index.js';
import { commitDiff } from './commit-diff.js';
import { withMounted } from './mount-tree.js';
import { EMPTY_RESULT, type LayerResult } from './types.js';
import type { Worker } from './worker.js';

export async function sourceSnapshot(w: Worker, kind: string, ctx: ExecContext, fill: (root: string) => Promise<void>): Promise<LayerResult> {
  const tmpKey = w.tempKey(kind);
  const mounts = await w.snapshotter.prepare(tmpKey, undefined);
  try {
    await withMounted(mounts, fill);
  } catch (err) {
    await w.snapshotter.remove(tmpKey).catch(() => undefined);
    throw err;
  }
  return commitDiff(w, tmpKey, EMPTY_RESULT, ctx);
}
