/**
 * Reads a layer blob through without writing anything: the checks the
 * hardened applier (tar-apply.ts) would make before its first write —
 * decompression, tar framing (truncation, sizes past the archive's end),
 * entry and hard-link paths that would leave the root. `load --no-unpack`
 * runs it so an image whose layers could never be unpacked is not tagged.
 */
import { throwIfAborted, type Descriptor } from '@tsbuild/core';
import type { ContentProvider } from '../types.js';
import { openLayerStream } from './layer-reader.js';
import { readTar } from './tar-read.js';
import { normalizeEntryPath } from './tar-safe-path.js';

export async function checkLayer(provider: ContentProvider, layer: Descriptor, options: { signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = options;
  const tar = await openLayerStream(await provider.reader(layer.digest, signal ? { signal } : {}), { signal });
  for await (const entry of readTar(tar, signal ? { signal } : {})) {
    throwIfAborted(signal);
    normalizeEntryPath(entry.path);
    if (entry.type === 'Link') normalizeEntryPath(entry.linkpath, entry.path);
    for await (const _ of entry.body); // reading the body is what finds a truncation
  }
}
