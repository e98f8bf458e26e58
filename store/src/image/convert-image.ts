/**
 * Layers in another compression, for an image that leaves the store
 * compressed: an OCI or docker archive output, later a push. Built layers
 * stay uncompressed in the store by default, as in dockerd's image store, so
 * a build does not spend its time compressing layers that may never be
 * shipped; this is where they get compressed, on every core.
 *
 * A layer to convert is streamed: blob → decompress → diffID check →
 * compress → ingest. Which layers convert is buildx's rule: uncompressed ones
 * get `compression`; ones already compressed are kept unless `force` (so a
 * gzip base layer is not recompressed, and `none` converts nothing).
 * Conversions are remembered by source blob and target compression
 * (layer-variants.ts): converting the same layer again costs a stat while the
 * converted blob exists.
 */
import { InvalidArgumentError, layerCompression, layerMediaType, throwIfAborted, type Compression, type Descriptor, type Digest, type Manifest, type MediaTypeFlavor } from '@tsbuild/core';
import { writeJson } from '../content/helpers.js';
import { openLayer } from '../layer/layer-reader.js';
import { writeLayer } from '../layer/layer-writer.js';
import type { Cancellable, ContentIngester, ContentProvider } from '../types.js';
import { mediaTypeFlavor } from './flavor.js';
import { LayerVariants } from './layer-variants.js';
import { resolveImage } from './resolve.js';
import { platformOf } from './write-image.js';

export interface ConvertLayersOptions extends Cancellable {
  /** The store directory (for the conversion memo). */
  root: string;
  content: ContentProvider & ContentIngester;
  compression: Compression;
  /** Re-encode layers already compressed in another way too (buildx's force-compression). */
  force?: boolean;
  /** Compression level for layers compressed now (gzip 0–9, zstd 1–22); a variant already made is reused whatever its level. */
  level?: number;
  /** The media-type flavor of converted layers (default: each layer's own). */
  flavor?: MediaTypeFlavor;
  /** Called with each blob a conversion makes or reuses, before anything naming it is written (a lease holds them). */
  onBlob?: (blob: Descriptor) => Promise<void>;
}

/** Layers converted at once: each uses the whole compression pool, but small layers leave it idle. */
const LAYERS_AT_ONCE = 3;

/** Whether `layer` is one `convertLayers` would re-encode. */
export function needsConversion(layer: Descriptor, compression: Compression, force = false): boolean {
  if (isForeign(layer.mediaType)) return false;
  const current = layerCompression(layer.mediaType);
  return current !== compression && (force || (current === 'none' && compression !== 'none'));
}

/**
 * `layers` (with their diffIDs, in order) with each that needs it converted;
 * the media types of converted ones are of the same flavor (OCI or Docker).
 */
export async function convertLayers(layers: readonly { descriptor: Descriptor; diffID: Digest; force?: boolean }[], options: ConvertLayersOptions): Promise<Descriptor[]> {
  const { content, compression, signal } = options;
  const cancel = signal ? { signal } : {};
  const variants = new LayerVariants(options.root);
  const out: Descriptor[] = layers.map((l) => l.descriptor);
  const todo = layers.map((_, i) => i).filter((i) => needsConversion(layers[i]!.descriptor, compression, options.force || layers[i]!.force));
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let n = next++; n < todo.length; n = next++) {
      throwIfAborted(signal);
      const i = todo[n]!;
      const { descriptor: source, diffID } = layers[i]!;
      const mediaType = layerMediaType(compression, options.flavor ?? mediaTypeFlavor(source.mediaType) ?? 'oci');
      let blob: { digest: Digest; size: number } | undefined = await variants.get(source.digest, compression, content);
      if (!blob) {
        const tar = await openLayer(content, source, { ...cancel, verifyDiffID: diffID });
        blob = (await writeLayer(tar, content, { ...cancel, compression, ...(options.level !== undefined ? { compressor: { level: options.level } } : {}) })).descriptor;
        await variants.put(source.digest, compression, blob);
      }
      out[i] = { ...source, mediaType, digest: blob.digest, size: blob.size };
      await options.onBlob?.(out[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(LAYERS_AT_ONCE, todo.length) }, worker));
  return out;
}

/**
 * The manifest of `image` (a manifest, or an index resolved to the host
 * platform) with its layers converted; the image itself when none needs it.
 * The config blob is reused byte for byte (diff_ids do not depend on
 * compression), so the image ID stays and only the manifest is new.
 */
export async function convertImage(image: Descriptor, options: ConvertLayersOptions): Promise<Descriptor> {
  const cancel = options.signal ? { signal: options.signal } : {};
  const { manifest, manifestDescriptor, config } = await resolveImage(options.content, image, cancel);
  const flavor = mediaTypeFlavor(manifest.mediaType ?? manifestDescriptor.mediaType) ?? 'oci';
  // zstd has only OCI media types: refused for a Docker manifest as BuildKit refuses it (exporter/containerimage/opts.go,
  // ImageCommitOpts.Validate), and a zstd layer a Docker manifest names is re-encoded to the compression asked for.
  if (flavor === 'docker' && options.compression === 'zstd') {
    throw new InvalidArgumentError('zstd layers need OCI media types: this image is a Docker schema2 manifest', { code: 'STORE_ZSTD_NEEDS_OCI' });
  }
  const must = (l: Descriptor) => flavor === 'docker' && layerCompression(l.mediaType) === 'zstd';
  const needs = (l: Descriptor) => needsConversion(l, options.compression, options.force) || must(l);
  if (!manifest.layers.some(needs)) return manifestDescriptor;
  const layers = await convertLayers(manifest.layers.map((descriptor, i) => ({ descriptor, diffID: config.rootfs.diff_ids[i]!, force: must(descriptor) })), { ...options, flavor });
  const converted: Manifest = { ...manifest, layers };
  const desc = await writeJson(options.content, converted, manifest.mediaType ?? manifestDescriptor.mediaType, cancel);
  return { ...desc, platform: platformOf(config) };
}

/** Non-distributable (foreign) layers name blobs fetched from elsewhere: never re-encoded. */
function isForeign(mediaType: string): boolean {
  return mediaType.includes('nondistributable') || mediaType.includes('foreign');
}
