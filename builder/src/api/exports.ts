/**
 * The export phase of a build: the image (always written: its digest is the
 * build's result), then each requested output — `image` tags it, `oci` /
 * `docker` write an archive, `local` / `tar` write the root filesystem — and
 * the metadata buildx writes with `--metadata-file`.
 */
import { join } from 'node:path';
import { InvalidArgumentError, parsePlatform, platformMatches, type Compression, type Descriptor, type ImageConfig, type Index, type Platform } from '@tsbuild/core';
import { indexMediaType, writeJson, type Store } from '@tsbuild/store';
import { platformLabel } from '../definition/naming.js';
import { exportArchive, exportLocal, exportTar, fromChain, imageConfigOf, tagImage, writeBuiltImage, type WrittenImage } from '../exporter/index.js';
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

interface ExportContext {
  options: BuildOptions;
  store: Store;
  emit: (e: BuildEvent) => void;
  /** The build's layer compression (see layerCompressionOf). */
  compression: Compression;
  /** Keeps blobs the export makes (converted layers) in the build's lease until it ends. */
  hold: (resources: { blobs: string[] }) => Promise<void>;
  /** `cacheTo` inline: the cache written into the image config (a single-platform build's). */
  inlineCache?: CacheConfig | undefined;
}

/** One platform's build: its load and its target's result. */
export interface PlatformBuild {
  loaded: LoadedBuild;
  result: LayerResult;
}

export async function runExports(p: ExportContext & PlatformBuild): Promise<Exported> {
  const { options, store, loaded, result, emit } = p;
  const signal = options.signal;
  const step = exportStep(emit);
  const image = await step('export.image', 'exporting manifest and config', () => writePlatformImage(p, p));
  const tags = await writeOutputs(p, image.manifest, async (id, out) => {
    if (out.type === 'local') await step(id, `copying files to ${out.dest}`, () => exportLocal(store, result, out.dest, { signal }));
    else await step(id, `sending tarball to ${out.dest}`, () => exportTar(store, result, out.dest, { signal, sourceDateEpoch: options.sourceDateEpoch }));
  });
  const metadata: Record<string, unknown> = {
    'containerimage.config.digest': image.configDigest,
    ...imageMetadata(image.manifest, tags),
  };
  // Ours: BuildKit's exporter response has no key for base images (exporter/containerimage/exptypes/types.go); they appear
  // only as materials of its provenance attestation (solver/llbsolver/provenance/predicate.go), which tsbuild does not write.
  const bases = baseImagesMetadata(loaded.images.values());
  if (bases.length > 0) metadata['tsbuild.base-images'] = bases;
  return { manifest: image.manifest, configDigest: image.configDigest, tags, metadata };
}

/**
 * A multi-platform build's export, as BuildKit's image writer does it
 * (exporter/containerimage/writer.go Commit, the multi-platform branch): each
 * platform's manifest and config, then an index naming them with their
 * platforms — an OCI index, or a Docker manifest list with docker media types
 * (`oci-mediatypes=false`). The index is what the outputs get: tagged, in an
 * `oci` archive, pushed. A `local` output writes each platform's tree into a
 * directory named after it (`linux_arm64`, exporter/local/export.go).
 * `containerimage.digest` is the index's; there is no single config digest,
 * so BuildResult.configDigest is the index digest too (what buildx's
 * --iidfile writes for a multi-platform build).
 */
export async function runMultiPlatformExports(p: ExportContext & { builds: PlatformBuild[] }): Promise<Exported> {
  const { options, store, builds, emit } = p;
  const signal = options.signal;
  const step = exportStep(emit);
  const flavor = options.mediaTypes ?? 'oci';
  const index = await step('export.image', 'exporting manifest list', async () => {
    const manifests: Descriptor[] = [];
    for (const build of builds) manifests.push((await writePlatformImage(p, build)).manifest);
    const mediaType = indexMediaType(flavor);
    const desc = await writeJson(store.content, { schemaVersion: 2, mediaType, manifests } satisfies Index, mediaType, signal ? { signal } : {});
    return desc;
  });
  const tags = await writeOutputs(p, index, async (id, out) => {
    if (out.type !== 'local') throw multiPlatformUnsupported(`a ${out.type} output`);
    await step(id, `copying files to ${out.dest}`, async () => {
      for (const { loaded, result } of builds) await exportLocal(store, result, join(out.dest, platformLabel(loaded.platform).replaceAll('/', '_')), { signal });
    });
  });
  const bases = baseImagesMetadata(builds.flatMap((b) => [...b.loaded.images.values()]));
  return {
    manifest: index, configDigest: index.digest, tags,
    metadata: { ...imageMetadata(index, tags), ...(bases.length > 0 ? { 'tsbuild.base-images': bases } : {}) },
  };
}

/**
 * What a multi-platform build cannot write, refused before it starts: a
 * `docker` archive (BuildKit's docker exporter: "docker exporter does not
 * currently support exporting manifest lists", exporter/oci/export.go Export)
 * and a `tar` output (not implemented here).
 */
export function checkMultiPlatformOutputs(options: Pick<BuildOptions, 'outputs'>): void {
  for (const out of options.outputs ?? []) {
    if (out.type === 'docker') throw multiPlatformUnsupported('the docker exporter (docker does not load manifest lists; use type=oci)');
    if (out.type === 'tar') throw multiPlatformUnsupported('a tar output');
  }
}

function multiPlatformUnsupported(what: string): InvalidArgumentError {
  return new InvalidArgumentError(`a multi-platform build cannot write ${what}`, { code: 'BUILD_MULTI_PLATFORM_UNSUPPORTED' });
}

/** One platform's image config and manifest, in the content store. */
async function writePlatformImage(c: ExportContext, { loaded, result }: PlatformBuild): Promise<WrittenImage> {
  const { options, store, compression, hold } = c;
  const root = fromChain(loaded.graph)[0]!;
  const baseConfig = root.base.kind === 'image' ? (loaded.images.get(root.base.ref)?.config ?? localBase(loaded, root.base.ref)) : undefined;
  // Times come from the steps' results (a cached rebuild exports the same image); SOURCE_DATE_EPOCH overrides them.
  const epoch = options.sourceDateEpoch === undefined ? undefined : isoTime(new Date(options.sourceDateEpoch * 1000));
  // The platform the base's layers are, when FROM took an image of another one (base-platform.ts).
  const platform = exportPlatform(loaded.platform, root.base.kind === 'image' ? loaded.images.get(root.base.ref) : undefined);
  const config = imageConfigOf({ graph: loaded.graph, baseConfig, result, platform, epoch, labels: options.labels });
  // As BuildKit's inline cache (its `moby.buildkit.cache.v0` config field): readers of the image ignore a field they do not know.
  if (c.inlineCache) (config as unknown as Record<string, unknown>)[INLINE_CACHE_FIELD] = c.inlineCache;
  return writeBuiltImage(store, { config, result, flavor: options.mediaTypes ?? 'oci', compression, hold, signal: options.signal, annotations: manifestAnnotations(options, loaded.platform) });
}

/**
 * The outputs that take the image (or index) `target`: `image` tags it, `oci` / `docker` archive it;
 * `local` and `tar` (the root filesystem) go to `rootfs`. Returns the tags.
 */
async function writeOutputs(c: ExportContext, target: Descriptor, rootfs: (id: string, out: Extract<OutputSpec, { type: 'local' | 'tar' }>) => Promise<void>): Promise<string[]> {
  const { options, store } = c;
  const step = exportStep(c.emit);
  const outputs: OutputSpec[] = options.outputs ?? [{ type: 'image' }];
  const tags: string[] = [];
  for (const [i, out] of outputs.entries()) {
    const id = `export.${i}.${out.type}`;
    if (out.type === 'image') {
      const names = unique([...(options.tags ?? []), ...(out.name ?? [])]);
      if (names.length > 0) await step(id, `naming to ${names.join(', ')}`, () => tagImage(store, target, names));
      tags.push(...names.filter((n) => !tags.includes(n)));
    } else if (out.type === 'oci' || out.type === 'docker') {
      const names = unique([...(options.tags ?? []), ...(out.name ?? [])]);
      const to = 'dest' in out ? out.dest : out.to;
      const sink = 'dest' in out ? { dest: out.dest } : { stream: out.stream };
      await step(id, `exporting ${out.type} archive to ${to}`, () => exportArchive(store, target, { format: out.type as 'oci' | 'docker', ...sink, names, signal: options.signal }));
    } else if (out.type === 'local' || out.type === 'tar') {
      await rootfs(id, out);
    }
  }
  return tags;
}

function exportStep(emit: (e: BuildEvent) => void) {
  return async <T>(id: string, name: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    emit({ type: 'export.started', time: Date.now(), id, name });
    const out = await fn();
    emit({ type: 'export.completed', time: Date.now(), id, name, durationMs: performance.now() - t0 });
    return out;
  };
}

/** buildx's --metadata-file keys for the exported image or index. */
function imageMetadata(target: Descriptor, tags: string[]): Record<string, unknown> {
  return {
    'containerimage.digest': target.digest,
    'containerimage.descriptor': { mediaType: target.mediaType, digest: target.digest, size: target.size, ...(target.platform ? { platform: target.platform } : {}) },
    ...(tags.length > 0 ? { 'image.name': tags.join(',') } : {}),
  };
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
