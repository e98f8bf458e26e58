/**
 * Merge (COPY --link): stacks a layer built on an empty base on top of the
 * parent. The copy's key does not depend on the parent, so a changed parent
 * re-runs only this merge — the layer blob is reused and applied (unpacked)
 * onto the parent's snapshot, never copied again.
 */
import { unpackLayers } from '@tsbuild/store';
import type { CacheMap, ExecContext, Op } from '../solver/index.js';
import { stackResult } from './commit-diff.js';
import { EMPTY_RESULT, type LayerResult } from './types.js';
import type { Worker } from './worker.js';

export class MergeOp implements Op<LayerResult> {
  constructor(
    private readonly w: Worker,
    private readonly hasParent: boolean,
  ) {}

  async cacheMap(): Promise<CacheMap> {
    return { definition: { op: 'merge' } };
  }

  async exec(inputs: LayerResult[], ctx: ExecContext): Promise<LayerResult> {
    const parent = this.hasParent ? inputs[0]! : EMPTY_RESULT;
    const link = inputs[this.hasParent ? 1 : 0]!;
    const added = link.layers.length > 0;
    if (!added) return { ...parent, steps: [...parent.steps, false] };
    const layers = [...parent.layers, ...link.layers];
    const diffIDs = layers.map((l) => l.diffID);
    await this.w.hold({ blobs: layers.map((l) => l.descriptor.digest) });
    const { chainId } = await unpackLayers({
      provider: this.w.store.content, snapshotter: this.w.snapshotter,
      layers: layers.map((l) => l.descriptor), diffIDs, signal: ctx.signal,
    });
    await this.w.hold({ snapshots: [chainId] });
    return stackResult(layers, chainId, [...parent.steps, true]);
  }
}
