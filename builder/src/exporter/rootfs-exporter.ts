/**
 * `local` and `tar` outputs: the final root filesystem, not an image. Local:
 * each layer is applied in order into `dest` (whiteouts applied, nothing
 * escapes `dest`). Tar: the same tree, built in a temp dir next to `dest`,
 * streamed as one tar to `dest`, then removed.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { applyLayer, openLayer, packDirectory, type Store } from '@tsbuild/store';
import type { LayerResult } from '../worker/types.js';

export async function exportLocal(store: Store, result: LayerResult, dest: string, { signal }: { signal?: AbortSignal | undefined }): Promise<void> {
  await mkdir(dest, { recursive: true });
  for (const layer of result.layers) {
    const tar = await openLayer(store.content, layer.descriptor, { verifyDiffID: layer.diffID, ...(signal ? { signal } : {}) });
    try {
      await applyLayer(dest, tar, { whiteouts: 'apply', ...(signal ? { signal } : {}) });
    } finally {
      tar.destroy();
    }
  }
}

export async function exportTar(
  store: Store,
  result: LayerResult,
  dest: string,
  options: { signal?: AbortSignal | undefined; sourceDateEpoch?: number | undefined },
): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = await mkdtemp(join(dirname(dest), '.tsbuild-rootfs-'));
  try {
    await exportLocal(store, result, tmp, options);
    const pack = { ...(options.signal ? { signal: options.signal } : {}), ...(options.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: options.sourceDateEpoch }) };
    await pipeline(packDirectory(tmp, pack), createWriteStream(dest), options.signal ? { signal: options.signal } : {});
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
