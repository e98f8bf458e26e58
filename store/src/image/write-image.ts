import { InvalidArgumentError, type Descriptor, type ImageConfig, type Manifest, type MediaTypeFlavor, type Platform } from '@tsbuild/core';
import { writeJson } from '../content/helpers.js';
import type { Cancellable, ContentIngester } from '../types.js';
import { configMediaType, convertLayerMediaType, manifestMediaType } from './flavor.js';

export interface WriteImageOptions extends Cancellable {
  config: ImageConfig;
  /** Layer blobs, already in the store; their media types are converted to the flavor. */
  layers: Descriptor[];
  flavor?: MediaTypeFlavor;
  /** Manifest annotations (OCI only: Docker schema2 has none, so they are dropped for 'docker'). */
  annotations?: Record<string, string>;
}

/**
 * Writes the config blob, then the manifest blob (so a manifest is never
 * committed before what it names), and returns the manifest's descriptor with
 * the image's platform. The config's diff_ids must match the layers in count.
 * Bytes are stable: the same inputs give the same digest.
 */
export async function writeImage(ingester: ContentIngester, options: WriteImageOptions): Promise<Descriptor> {
  const { config, layers, flavor = 'oci', annotations, signal } = options;
  const cancel = signal ? { signal } : {};
  if (config.rootfs.diff_ids.length !== layers.length) {
    throw new InvalidArgumentError(`config lists ${config.rootfs.diff_ids.length} diff_ids for ${layers.length} layers`, { code: 'IMAGE_INVALID_CONFIG' });
  }
  const configDesc = await writeJson(ingester, config, configMediaType(flavor), cancel);
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: manifestMediaType(flavor),
    config: configDesc,
    layers: layers.map((l) => ({ ...l, mediaType: convertLayerMediaType(l.mediaType, flavor) })),
  };
  if (flavor === 'oci' && annotations && Object.keys(annotations).length > 0) manifest.annotations = annotations;
  const desc = await writeJson(ingester, manifest, manifest.mediaType!, cancel);
  return { ...desc, platform: platformOf(config) };
}

/** The platform an image config describes. */
export function platformOf(config: ImageConfig): Platform {
  const p: Platform = { os: config.os, architecture: config.architecture };
  if (config.variant) p.variant = config.variant;
  if (config['os.version']) p['os.version'] = config['os.version'];
  return p;
}
