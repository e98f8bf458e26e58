import { parseReference, shortDigest, type Descriptor, type ImageConfig, type Manifest } from '@tsbuild/core';
import { resolveImage, type ImageRecord, type Store } from '@tsbuild/store';

/** What `images` and `inspect` show of one tag. */
export interface ImageSummary {
  name: string;
  repository: string;
  tag: string;
  /** The config digest: docker's image ID. */
  id: string;
  /** The manifest (or index) digest the tag points to. */
  digest: string;
  created: string | undefined;
  /** Compressed size of config and layers as stored. */
  size: number;
  platform: string;
  descriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
}

export async function summarize(store: Store, record: ImageRecord, signal?: AbortSignal): Promise<ImageSummary> {
  const resolved = await resolveImage(store.content, record.target, { signal });
  const ref = parseReference(record.name);
  const repository = record.name.slice(0, record.name.length - (ref.tag ? ref.tag.length + 1 : 0));
  const size = resolved.configDescriptor.size + resolved.manifest.layers.reduce((n, l) => n + l.size, 0);
  const c = resolved.config;
  return {
    name: record.name,
    repository,
    tag: ref.tag ?? '<none>',
    id: resolved.configDescriptor.digest,
    digest: record.target.digest,
    created: c.created,
    size,
    platform: [c.os, c.architecture, c.variant].filter(Boolean).join('/'),
    descriptor: record.target,
    manifest: resolved.manifest,
    config: c,
  };
}

export function shortId(digest: string): string {
  return shortDigest(digest);
}
