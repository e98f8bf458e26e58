/**
 * Image source: the layers of a resolved image unpacked into snapshots named
 * by chain id (already unpacked layers are reused). Resolution (tag → manifest
 * for the platform) happened when the build loaded, so the key names the
 * manifest digest: retagging the base invalidates what is built on it.
 */
import { chainIds, unpackLayers } from '@tsbuild/store';
import type { ImageSourceSpec } from '../definition/ops.js';
import type { CacheMap, ExecContext, Op } from '../solver/index.js';
import { stackResult } from './commit-diff.js';
import type { Worker } from './worker.js';
import { EMPTY_RESULT, type LayerResult } from './types.js';

export class ImageSourceOp implements Op<LayerResult> {
  constructor(
    private readonly w: Worker,
    readonly spec: ImageSourceSpec,
  ) {}

  async cacheMap(): Promise<CacheMap> {
    return { definition: { source: 'docker-image', ref: this.spec.ref, manifest: this.spec.manifestDigest, platform: this.spec.platform } };
  }

  async exec(_inputs: unknown[], ctx: ExecContext): Promise<LayerResult> {
    const { layers, diffIDs } = this.spec;
    if (layers.length === 0) return EMPTY_RESULT;
    const chain = chainIds(diffIDs);
    await this.w.hold({ blobs: layers.map((l) => l.digest), snapshots: chain });
    const { chainId } = await unpackLayers({ provider: this.w.store.content, snapshotter: this.w.snapshotter, layers, diffIDs, signal: ctx.signal });
    const result = stackResult(
      layers.map((descriptor, i) => ({ descriptor, diffID: diffIDs[i]! })),
      chainId,
      [],
    );
    return { ...result, snapshots: chain };
  }
}
