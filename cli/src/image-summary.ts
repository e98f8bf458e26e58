import {
  formatPlatform, isIndexType, isManifestType, isNotFound, normalizePlatform, parseReference, shortDigest,
  type Descriptor, type ImageConfig, type Index, type Manifest,
} from '@tsbuild/core';
import { platformOf, readJson, resolveImage, type ImageRecord, type ResolvedImage, type Store } from '@tsbuild/store';

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
  /** The platform of the image shown (an index's: the host's, else its first). */
  platform: string;
  /** What the tag names: a manifest's own platform, or an index's image manifests (attestations left out) and whether the store holds each. */
  platforms: PlatformEntry[];
  descriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
}

export interface PlatformEntry {
  platform: string;
  /** The manifest digest. */
  digest: string;
  /** Whether the store holds the manifest (an index pulled for one platform lists others it lacks). */
  present: boolean;
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
    platforms: isIndexType(record.target.mediaType)
      ? await indexPlatforms(store, record.target, signal)
      : [{ platform: formatPlatform(normalizePlatform(platformOf(c))), digest: record.target.digest, present: true }],
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

/** BuildKit's attestation manifests sit in an index as `unknown/unknown` with this annotation (exporter/containerimage/writer.go). */
const REFERENCE_TYPE = 'vnd.docker.reference.type';

async function indexPlatforms(store: Store, target: Descriptor, signal: AbortSignal | undefined): Promise<PlatformEntry[]> {
  const index = await readJson<Index>(store.content, target, signal ? { signal } : {});
  const out: PlatformEntry[] = [];
  for (const m of index.manifests) {
    if (!isManifestType(m.mediaType) || !m.platform || m.annotations?.[REFERENCE_TYPE]) continue;
    const present = await store.content.info(m.digest).then(() => true, (err: unknown) => {
      if (isNotFound(err)) return false;
      throw err;
    });
    out.push({ platform: formatPlatform(normalizePlatform(m.platform)), digest: m.digest, present });
  }
  return out;
}
