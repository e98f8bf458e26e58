/**
 * The remote build cache's format (docs/cache-format.md): a cache config blob
 * of our own media type, carried in BuildKit's manifest shapes —
 *
 *   image-manifest=true (default): an OCI image manifest, config = the cache
 *     config blob, layers = the layer blobs (BuildKit's `image-manifest=true`,
 *     cache/remotecache/export.go, NewExportableCache);
 *   image-manifest=false: an OCI index whose `manifests` are the layer blobs
 *     and then the config blob (BuildKit's ManifestList form: AddCacheBlob,
 *     then SetConfig appends the config).
 *
 * The config maps cache keys to results: each record names its layers by
 * index into the manifest's layer list (with their diffIDs), so a reader
 * fetches exactly the blobs a result needs. `decodeCacheConfig` trusts
 * nothing: every key and digest is checked for shape, every index for range,
 * and a record carries no identity of its own: its chain id (what children
 * are keyed on) is computed from its diffIDs, which unpacking verifies
 * against the bytes.
 */
import {
  InvalidArgumentError, isDigest, MediaType, sha256,
  type Descriptor, type Digest,
} from '@tsbuild/core';
import { chainIds } from '@tsbuild/store';
import { CACHE_KEY_VERSION } from '../solver/index.js';

export const CACHE_CONFIG_MEDIA_TYPE = 'application/vnd.tsbuild.cache.config.v1+json';
/** Where inline cache lives in an image config (BuildKit's is `moby.buildkit.cache.v0`, exporter/containerimage/exptypes). */
export const INLINE_CACHE_FIELD = 'tsbuild.cache.v1';

/** A layer of a record: `blob` indexes the manifest's layers. */
export interface CacheLayer {
  blob: number;
  diffID: Digest;
  created?: string;
  /**
   * The exporting store held this layer uncompressed (its image names it so;
   * the cache carries it compressed). A build that keeps its layers
   * uncompressed uses it so too, so it makes the same image.
   */
  uncompressed?: true;
}

export interface CacheRecordEntry {
  /** The keys this result is found under (definition key and result key). */
  keys: string[];
  createdAt: string;
  layers: CacheLayer[];
  /** LayerResult.steps: which layer-making steps added a layer. */
  steps: boolean[];
}

/** A `RUN --mount=type=cache` directory's contents (`cache-mounts=true`). */
export interface CacheMountEntry {
  id: string;
  blob: number;
  diffID: Digest;
}

export interface CacheConfig {
  /** CACHE_KEY_VERSION of the keys: another version's keys never match, so such a cache is ignored. */
  keyVersion: number;
  records: CacheRecordEntry[];
  mounts: CacheMountEntry[];
}

/** A cache as read: its config and the layer descriptors its indexes name. */
export interface RemoteCache {
  config: CacheConfig;
  layers: Descriptor[];
}

export interface EncodedCache {
  config: { descriptor: Descriptor; bytes: Buffer };
  manifest: { descriptor: Descriptor; bytes: Buffer };
}

/** The config blob and the manifest (or index) that carries it with `layers`. */
export function encodeCache(cache: RemoteCache, options: { imageManifest: boolean }): EncodedCache {
  const configBytes = Buffer.from(JSON.stringify(cache.config));
  const configDesc: Descriptor = { mediaType: CACHE_CONFIG_MEDIA_TYPE, digest: sha256(configBytes), size: configBytes.length };
  const doc = options.imageManifest
    ? { schemaVersion: 2, mediaType: MediaType.OciManifest, config: configDesc, layers: cache.layers }
    : { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [...cache.layers, configDesc] };
  const bytes = Buffer.from(JSON.stringify(doc));
  return {
    config: { descriptor: configDesc, bytes: configBytes },
    manifest: { descriptor: { mediaType: doc.mediaType, digest: sha256(bytes), size: bytes.length }, bytes },
  };
}

/** What a cache manifest (either form) names: the config descriptor and the layers. */
export function parseCacheManifest(bytes: Buffer, where: string): { config: Descriptor; layers: Descriptor[] } | { image: { config: Descriptor; layers: Descriptor[] } } {
  const doc = parseJson(bytes, where) as { config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] };
  if (Array.isArray(doc.manifests)) {
    const config = doc.manifests.find((d) => d?.mediaType === CACHE_CONFIG_MEDIA_TYPE);
    if (!config) throw invalid(`${where}: an index without a tsbuild cache config (${CACHE_CONFIG_MEDIA_TYPE})`);
    return { config: checkDescriptor(config, where), layers: doc.manifests.filter((d) => d !== config).map((d) => checkDescriptor(d, where)) };
  }
  if (!doc.config || !Array.isArray(doc.layers)) throw invalid(`${where}: neither a cache manifest nor an index`);
  const config = checkDescriptor(doc.config, where);
  const layers = doc.layers.map((d) => checkDescriptor(d, where));
  // An image manifest: its cache, if any, is inline in the image config.
  return config.mediaType === CACHE_CONFIG_MEDIA_TYPE ? { config, layers } : { image: { config, layers } };
}

/** Every blob a parsed manifest names (config included): a registry or layout holding the manifest holds them. */
export function manifestBlobs(parsed: ReturnType<typeof parseCacheManifest>): Digest[] {
  const named = 'image' in parsed ? parsed.image : parsed;
  return [named.config.digest, ...named.layers.map((l) => l.digest)];
}

/** The checked config; `layerCount` is how many layers its manifest lists. */
export function decodeCacheConfig(value: unknown, layerCount: number, where: string): CacheConfig {
  const c = value as Partial<CacheConfig> | undefined;
  if (!c || typeof c !== 'object' || !Array.isArray(c.records)) throw invalid(`${where}: the cache config has no records`);
  if (c.keyVersion !== CACHE_KEY_VERSION) {
    throw invalid(`${where}: cache keys of version ${String(c.keyVersion)}, this tsbuild computes version ${CACHE_KEY_VERSION}`, 'CACHE_REMOTE_KEY_VERSION');
  }
  const blob = (n: unknown) => {
    if (!Number.isInteger(n) || (n as number) < 0 || (n as number) >= layerCount) throw invalid(`${where}: a layer index ${String(n)} outside the manifest's ${layerCount} layers`);
    return n as number;
  };
  const digest = (d: unknown, what: string) => {
    if (typeof d !== 'string' || !isDigest(d)) throw invalid(`${where}: ${what} ${JSON.stringify(d)} is not a digest`);
    return d as Digest;
  };
  const records = c.records.map((r): CacheRecordEntry => {
    if (!r || !Array.isArray(r.keys) || r.keys.length === 0 || !Array.isArray(r.layers) || !Array.isArray(r.steps)) throw invalid(`${where}: a malformed record`);
    const layers = r.layers.map((l): CacheLayer => ({
      blob: blob(l?.blob), diffID: digest(l?.diffID, 'a diffID'),
      ...(typeof l?.created === 'string' ? { created: l.created } : {}), ...(l?.uncompressed === true ? { uncompressed: true } : {}),
    }));
    return {
      keys: r.keys.map((k) => digest(k, 'a cache key')),
      createdAt: typeof r.createdAt === 'string' ? r.createdAt : new Date(0).toISOString(),
      layers,
      steps: r.steps.map((s) => s === true),
    };
  });
  const mounts = (Array.isArray(c.mounts) ? c.mounts : []).map((m): CacheMountEntry => {
    if (typeof m?.id !== 'string' || m.id === '') throw invalid(`${where}: a cache mount without an id`);
    return { id: m.id, blob: blob(m.blob), diffID: digest(m.diffID, 'a diffID') };
  });
  return { keyVersion: c.keyVersion, records, mounts };
}

/** A result's identity (LayerResult.contentDigest, what children are keyed on): the chain id of its layers, `scratch` for none. */
export function chainIdOf(diffIDs: readonly Digest[]): string {
  return diffIDs.length === 0 ? 'scratch' : chainIds(diffIDs).at(-1)!;
}

export function parseJson(bytes: Buffer, where: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid(`${where}: not JSON`);
  }
}

function checkDescriptor(d: Descriptor, where: string): Descriptor {
  if (!d || typeof d.mediaType !== 'string' || typeof d.digest !== 'string' || !isDigest(d.digest) || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw invalid(`${where}: a malformed descriptor`);
  }
  return { mediaType: d.mediaType, digest: d.digest, size: d.size };
}

function invalid(message: string, code = 'CACHE_REMOTE_INVALID'): InvalidArgumentError {
  return new InvalidArgumentError(message, { code });
}
