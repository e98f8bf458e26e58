import { isIndexType, isNotFound, parseReference, shortDigest, type Descriptor, type ImageConfig, type Index, type Manifest } from '@tsbuild/core';
import { readJson, resolveImage, type ImageRecord, type ResolvedImage, type Store } from '@tsbuild/store';

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
  const resolved = await resolveHeld(store, record.target, signal);
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

/** The host's image of a tag; for an index pulled for other platforms only, the first platform whose manifest the store holds. */
async function resolveHeld(store: Store, target: Descriptor, signal: AbortSignal | undefined): Promise<ResolvedImage> {
  const cancel = signal ? { signal } : {};
  try {
    return await resolveImage(store.content, target, cancel);
  } catch (err) {
    if (!isNotFound(err) || !isIndexType(target.mediaType)) throw err;
    for (const m of (await readJson<Index>(store.content, target, cancel)).manifests) {
      if (!m.platform || !(await store.content.info(m.digest).then(() => true, () => false))) continue;
      return resolveImage(store.content, target, { platform: m.platform, ...cancel });
    }
    throw err;
  }
}
