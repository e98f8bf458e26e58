/**
 * The image exporter: config + manifest blobs into the content store (media
 * types from `mediaTypes`), then every tag. The manifest digest is what
 * `build()` returns; tagging happens last, so a failed build never moves a tag.
 */
import type { Descriptor, ImageConfig } from '@tsbuild/core';
import { readJson, writeImage, type Store } from '@tsbuild/store';
import type { LayerResult } from '../worker/types.js';

export interface WrittenImage {
  manifest: Descriptor;
  config: ImageConfig;
  configDigest: Descriptor['digest'];
}

export async function writeBuiltImage(
  store: Store,
  options: { config: ImageConfig; result: LayerResult; flavor: 'oci' | 'docker'; signal?: AbortSignal | undefined },
): Promise<WrittenImage> {
  const manifest = await writeImage(store.content, {
    config: options.config,
    layers: options.result.layers.map((l) => l.descriptor),
    flavor: options.flavor,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const m = await readJson<{ config: Descriptor }>(store.content, manifest, options.signal ? { signal: options.signal } : {});
  return { manifest, config: options.config, configDigest: m.config.digest };
}

export async function tagImage(store: Store, manifest: Descriptor, tags: readonly string[]): Promise<void> {
  for (const tag of tags) await store.images.put(tag, manifest);
}
