import {
  NotFoundError,
  formatPlatform,
  hostPlatform,
  isIndexType,
  isManifestType,
  platformMatches,
  InvalidArgumentError,
  type Descriptor,
  type ImageConfig,
  type Index,
  type Manifest,
  type Platform,
} from '@tsbuild/core';
import { readJson } from '../content/helpers.js';
import type { Cancellable, ContentProvider } from '../types.js';
import { validateImageConfig, validateIndex, validateManifest } from './validate.js';

export interface ResolvedImage {
  manifestDescriptor: Descriptor;
  manifest: Manifest;
  configDescriptor: Descriptor;
  config: ImageConfig;
}

export interface ResolveOptions extends Cancellable {
  /** The platform an index is resolved to; default the host's. A plain manifest is returned whatever its platform. */
  platform?: Platform;
}

/**
 * Resolves a manifest or an index (nested indexes too) to one image: its
 * manifest and config, read verified and validated. An index yields the first
 * entry whose platform matches; none → NotFoundError code
 * IMAGE_PLATFORM_NOT_FOUND listing what the index has.
 */
export async function resolveImage(provider: ContentProvider, target: Descriptor, options: ResolveOptions = {}): Promise<ResolvedImage> {
  const platform = options.platform ?? hostPlatform();
  let desc = target;
  for (let depth = 0; ; depth++) {
    if (depth > 8) throw new InvalidArgumentError(`index nesting too deep at ${desc.digest}`, { code: 'IMAGE_INVALID_INDEX' });
    const json = await readJson<unknown>(provider, desc, options);
    if (isIndexType(desc.mediaType) || (isIndexLike(json) && !isManifestType(desc.mediaType))) {
      validateIndex(json, `image index ${desc.digest}`);
      desc = pickPlatform(json, platform, desc);
      continue;
    }
    validateManifest(json, `image manifest ${desc.digest}`);
    const config = await readJson<unknown>(provider, json.config, options);
    validateImageConfig(config, `image config ${json.config.digest}`);
    const layerCount = json.layers.length;
    if (config.rootfs.diff_ids.length !== layerCount) {
      throw new InvalidArgumentError(`image ${desc.digest} has ${layerCount} layers but its config lists ${config.rootfs.diff_ids.length} diff_ids`, {
        code: 'IMAGE_INVALID_CONFIG',
      });
    }
    return { manifestDescriptor: desc, manifest: json, configDescriptor: json.config, config };
  }
}

function isIndexLike(json: unknown): boolean {
  return typeof json === 'object' && json !== null && Array.isArray((json as { manifests?: unknown }).manifests);
}

function pickPlatform(index: Index, platform: Platform, from: Descriptor): Descriptor {
  const candidates = index.manifests.filter((m) => isManifestType(m.mediaType) || isIndexType(m.mediaType));
  const hit = candidates.find((m) => m.platform !== undefined && platformMatches(platform, m.platform));
  if (hit) return hit;
  const have = candidates.map((m) => (m.platform ? formatPlatform(m.platform) : 'unknown')).join(', ') || 'nothing';
  throw new NotFoundError(`no image for ${formatPlatform(platform)} in index ${from.digest} (it has: ${have})`, { code: 'IMAGE_PLATFORM_NOT_FOUND' });
}
