/**
 * The export phase of a build: the image (always written: its digest is the
 * build's result), then each requested output — `image` tags it, `oci` /
 * `docker` write an archive, `local` / `tar` write the root filesystem — and
 * the metadata buildx writes with `--metadata-file`.
 */
import { parsePlatform, platformMatches, type Compression, type Descriptor, type ImageConfig, type Platform } from '@tsbuild/core';
import type { Store } from '@tsbuild/store';
import { exportArchive, exportLocal, exportTar, fromChain, imageConfigOf, tagImage, writeBuiltImage } from '../exporter/index.js';
import { INLINE_CACHE_FIELD, type CacheConfig } from '../remote-cache/format.js';
import type { LayerResult } from '../worker/types.js';
import type { BuildEvent } from './events.js';
import { baseImagesMetadata } from './base-images.js';
import type { LoadedBuild } from './load.js';
import type { BuildOptions, OutputSpec } from './types.js';
import { exportPlatform } from './base-platform.js';

export interface Exported {
  manifest: Descriptor;
  configDigest: Descriptor['digest'];
  tags: string[];
  metadata: Record<string, unknown>;
}

export async function runExports(p: {
  options: BuildOptions;
  store: Store;
  loaded: LoadedBuild;
  result: LayerResult;
  emit: (e: BuildEvent) => void;
  /** The build's layer compression (see layerCompressionOf). */
  compression: Compression;
  /** Keeps blobs the export makes (converted layers) in the build's lease until it ends. */
  hold: (resources: { blobs: string[] }) => Promise<void>;
  /** `cacheTo` inline: the cache written into the image config. */
  inlineCache?: CacheConfig | undefined;
}): Promise<Exported> {
  const { options, store, loaded, result, emit, compression, hold } = p;
  const signal = options.signal;
  const root = fromChain(loaded.graph)[0]!;
  const baseConfig = root.base.kind === 'image' ? (loaded.images.get(root.base.ref)?.config ?? localBase(loaded, root.base.ref)) : undefined;
  // Times come from the steps' results (a cached rebuild exports the same image); SOURCE_DATE_EPOCH overrides them.
  const epoch = options.sourceDateEpoch === undefined ? undefined : isoTime(new Date(options.sourceDateEpoch * 1000));
  // The platform the base's layers are, when FROM took an image of another one (base-platform.ts).
  const platform = exportPlatform(loaded.platform, root.base.kind === 'image' ? loaded.images.get(root.base.ref) : undefined);
  const config = imageConfigOf({ graph: loaded.graph, baseConfig, result, platform, epoch, labels: options.labels });
  // As BuildKit's inline cache (its `moby.buildkit.cache.v0` config field): readers of the image ignore a field they do not know.
  if (p.inlineCache) (config as unknown as Record<string, unknown>)[INLINE_CACHE_FIELD] = p.inlineCache;
  const step = async <T>(id: string, name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    emit({ type: 'export.started', time: Date.now(), id, name });
    const out = await fn();
    emit({ type: 'export.completed', time: Date.now(), id, name, durationMs: performance.now() - t0 });
    return out;
  };
  const image = await step('export.image', 'exporting manifest and config', () =>
    writeBuiltImage(store, { config, result, flavor: options.mediaTypes ?? 'oci', compression, hold, signal, annotations: manifestAnnotations(options, loaded.platform) }),
  );
  const outputs: OutputSpec[] = options.outputs ?? [{ type: 'image' }];
  const tags: string[] = [];
  for (const [i, out] of outputs.entries()) {
    const id = `export.${i}.${out.type}`;
    if (out.type === 'image') {
      const names = unique([...(options.tags ?? []), ...(out.name ?? [])]);
      if (names.length > 0) await step(id, `naming to ${names.join(', ')}`, () => tagImage(store, image.manifest, names));
      tags.push(...names.filter((n) => !tags.includes(n)));
    } else if (out.type === 'oci' || out.type === 'docker') {
      const names = unique([...(options.tags ?? []), ...(out.name ?? [])]);
      const to = 'dest' in out ? out.dest : out.to;
      const sink = 'dest' in out ? { dest: out.dest } : { stream: out.stream };
      await step(id, `exporting ${out.type} archive to ${to}`, () => exportArchive(store, image.manifest, { format: out.type as 'oci' | 'docker', ...sink, names, signal }));
    } else if (out.type === 'local') {
      await step(id, `copying files to ${out.dest}`, () => exportLocal(store, result, out.dest, { signal }));
    } else if (out.type === 'tar') {
      await step(id, `sending tarball to ${out.dest}`, () => exportTar(store, result, out.dest, { signal, sourceDateEpoch: options.sourceDateEpoch }));
    }
  }
  const metadata: Record<string, unknown> = {
    'containerimage.config.digest': image.configDigest,
    'containerimage.digest': image.manifest.digest,
    'containerimage.descriptor': { mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.size, ...(image.manifest.platform ? { platform: image.manifest.platform } : {}) },
    ...(tags.length > 0 ? { 'image.name': tags.join(',') } : {}),
  };
  // Ours: BuildKit's exporter response has no key for base images (exporter/containerimage/exptypes/types.go); they appear
  // only as materials of its provenance attestation (solver/llbsolver/provenance/predicate.go), which tsbuild does not write.
  const bases = baseImagesMetadata(loaded.images.values());
  if (bases.length > 0) metadata['tsbuild.base-images'] = bases;
  return { manifest: image.manifest, configDigest: image.configDigest, tags, metadata };
}

/**
 * The compression of a build's layers. Unset, they stay uncompressed (the
 * store's image is for running and building on, as in dockerd's image store:
 * no build waits for compression) unless the build writes an oci or docker
 * archive, whose layers are gzip as BuildKit's are; then they are written
 * compressed at once, in the same pass that packs them.
 */
export function layerCompressionOf(options: Pick<BuildOptions, 'compression' | 'outputs'>): Compression {
  if (options.compression) return options.compression;
  return options.outputs?.some((o) => o.type === 'oci' || o.type === 'docker') ? 'gzip' : 'none';
}

/** A local --build-context as the FROM: one history entry for its layer (an empty directory's too: the empty tar). */
function localBase(loaded: LoadedBuild, ref: string): ImageConfig | undefined {
  return loaded.locals.get(ref)?.config;
}

/** RFC 3339 as Go formats it: no fraction when it is zero (BuildKit's `created`). */
function isoTime(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, 'Z');
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}

/**
 * `--annotation`s for this build's manifest: those without a platform and those
 * for the build's (BuildKit's AnnotationsGroup.Platform, exporter/containerimage/annotations.go,
 * merges the unqualified ones with the platform's).
 */
function manifestAnnotations(options: BuildOptions, platform: Platform): Record<string, string> | undefined {
  const mine = (options.annotations ?? []).filter((a) => a.platform === undefined || platformMatches(parsePlatform(a.platform), platform));
  return mine.length ? Object.fromEntries(mine.map((a) => [a.key, a.value])) : undefined;
}
