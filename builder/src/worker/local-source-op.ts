/**
 * Local source (a local directory `--build-context`): its tree copied onto
 * scratch by a file op reading that context. A source starts the chain: its
 * layer is a base layer, not a step of the Dockerfile, so the result records
 * no steps (the image's history has one entry for it, made by the exporter).
 */
import type { Op } from '../solver/index.js';
import type { FileOp } from './file-op.js';
import type { LayerResult } from './types.js';

export function localSourceOp(copy: FileOp): Op<LayerResult> {
  return {
    cacheMap: (ctx) => copy.cacheMap(ctx),
    exec: async (inputs, ctx) => ({ ...(await copy.exec(inputs, ctx)), steps: [] }),
  };
}
