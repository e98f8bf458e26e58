/**
 * The image exporter: config + manifest blobs into the content store (media
 * types from `mediaTypes`), then every tag. The manifest digest is what
 * `build()` returns; tagging happens last, so a failed build never moves a tag.
 * Layers the build reused uncompressed (cached steps of an uncompressed build,
 * a loaded base image) are compressed first when the build's compression asks
 * for it (convertLayers: buildx's rule, compressed ones are kept).
 */
import type { Compression, Descriptor, ImageConfig } from '@tsbuild/core';
import { convertLayers, readJson, writeImage, type Store } from '@tsbuild/store';
import type { LayerResult } from '../worker/types.js';

export interface WrittenImage {
  manifest: Descriptor;
  config: ImageConfig;
  configDigest: Descriptor['digest'];
}

export async function writeBuiltImage(
  store: Store,
  options: {
    config: ImageConfig; result: LayerResult; flavor: 'oci' | 'docker'; compression: Compression;
    /** Manifest annotations (OCI flavor). */
    annotations?: Record<string, string> | undefined;
    /** Keeps converted layers in the build's lease until their manifest is tagged. */
    hold: (resources: { blobs: string[] }) => Promise<void>;
    signal?: AbortSignal | undefined;
  },
): Promise<WrittenImage> {
  const { signal } = options;
  const layers = await convertLayers(options.result.layers, {
    root: store.root, content: store.content, compression: options.compression, ...(signal ? { signal } : {}),
    onBlob: (blob) => options.hold({ blobs: [blob.digest] }),
  });
  const manifest = await writeImage(store.content, {
    config: options.config,
    layers,
    flavor: options.flavor,
    ...(options.annotations && Object.keys(options.annotations).length ? { annotations: options.annotations } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const m = await readJson<{ config: Descriptor }>(store.content, manifest, options.signal ? { signal: options.signal } : {});
  return { manifest, config: options.config, configDigest: m.config.digest };
}

export async function tagImage(store: Store, manifest: Descriptor, tags: readonly string[]): Promise<void> {
  for (const tag of tags) await store.images.put(tag, manifest);
}
