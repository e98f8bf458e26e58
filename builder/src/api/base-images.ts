/**
 * Base images of a build (FROM, COPY --from, RUN --mount from=,
 * `--build-context name=docker-image://…`): from the store, or pulled into it
 * through the injected ImagePuller, under the build's pull mode.
 *
 *   missing (default)  the store first; a miss is pulled (BuildKit's `local`
 *                      resolve mode, ResolveModePreferLocal in util/resolver/pool.go
 *                      Resolver.Resolve: the image store first, then the registry)
 *   always (--pull)    the registry resolves every tag again (BuildKit's `pull`,
 *                      ResolveModeForcePull); a digest reference the store holds is used as is
 *   never (--offline)  the store only; no request leaves the machine
 *
 * Each reference (normalized) and platform is resolved once per build: a map
 * of in-flight promises, so stages naming the same image (`busybox`,
 * `docker.io/library/busybox:latest`) share one pull. The puller returns the
 * manifest it tagged, and the build reads that descriptor, not the tag again,
 * so a tag moved by someone else mid-build cannot split the build.
 *
 * A pull shows as BuildKit's `[internal] load metadata for REF` vertex
 * (dockerfile2llb/convert.go, the metaResolver.ResolveImageConfig LogName),
 * with a `resolve REF@DIGEST` line and one line per blob fetched. A failure is
 * a DockerfileError at the instruction naming the image, carrying the
 * registry's message and code.
 */
import {
  DockerfileError, TsbuildError, formatPlatform, isIndexType, isNotFound, normalizeReference, parseReference, platformMatches, sha256,
  type Descriptor, type Digest, type Platform, type SourceRange,
} from '@tsbuild/core';
import { resolveImage, type Store } from '@tsbuild/store';
import type { ResolvedBase } from '../definition/types.js';
import type { BuildEvent } from './events.js';
import type { ImagePuller, PullMode } from './types.js';

export interface BaseImageResolver {
  resolve(ref: string, at: { platform: Platform; file: string; range: SourceRange }): Promise<ResolvedBase>;
}

export function createBaseImageResolver(p: {
  store: Store;
  mode: PullMode;
  puller: ImagePuller | undefined;
  emit: (e: BuildEvent) => void;
  signal: AbortSignal | undefined;
}): BaseImageResolver {
  const inFlight = new Map<string, Promise<Descriptor | undefined>>();
  const cancel = p.signal ? { signal: p.signal } : {};

  /** The manifest (or index) the store holds for `name`, or undefined. */
  const fromStore = async (name: string): Promise<Descriptor | undefined> => {
    try {
      return (await p.store.images.get(name)).target;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

  const pull = async (name: string, platform: Platform): Promise<Descriptor> => {
    const title = `[internal] load metadata for ${name}`;
    const id = sha256(`tsbuild load metadata ${name} ${formatPlatform(platform)}`);
    const t0 = performance.now();
    p.emit({ type: 'vertex.started', time: Date.now(), id, name: title });
    try {
      const desc = await p.puller!.pull(name, {
        platform, ...cancel,
        onLog: (line) => p.emit({ type: 'vertex.log', time: Date.now(), id, name: title, stream: 'stderr', data: `${line}\n` }),
      });
      p.emit({ type: 'vertex.completed', time: Date.now(), id, name: title, durationMs: performance.now() - t0 });
      return desc;
    } catch (err) {
      p.emit({ type: 'vertex.failed', time: Date.now(), id, name: title, durationMs: performance.now() - t0, message: (err as Error).message });
      throw err;
    }
  };

  /** Store or registry, by mode; undefined: not in the store and not to be pulled. */
  const locate = async (name: string, platform: Platform): Promise<Descriptor | undefined> => {
    const pinned = parseReference(name).digest !== undefined;
    if (p.mode !== 'always' || pinned || !p.puller) {
      const stored = await fromStore(name);
      const canPull = p.mode !== 'never' && p.puller !== undefined;
      // A manifest recorded for another platform is used only when the right one cannot be pulled (as before pulls existed).
      if (stored && (await holdsPlatform(p.store, stored, platform, p.signal)) && (!canPull || !otherPlatform(stored, platform))) return stored;
      if (!canPull) return undefined;
    }
    return pull(name, platform);
  };

  return {
    async resolve(ref, at) {
      let name = ref;
      let target: Descriptor | undefined;
      try {
        name = normalizeReference(ref);
        const key = `${name} ${formatPlatform(at.platform)}`;
        let found = inFlight.get(key);
        if (!found) inFlight.set(key, (found = locate(name, at.platform)));
        target = await found;
      } catch (err) {
        if (!(err instanceof TsbuildError) || err.category === 'Canceled') throw err;
        throw new DockerfileError(`failed to resolve source metadata for ${name}: ${err.message}`, at.file, at.range, { code: err.code, cause: err });
      }
      if (!target) throw notFound(ref, p.mode, p.puller !== undefined, at);
      const resolved = await resolveImage(p.store.content, target, { platform: at.platform, ...cancel });
      return {
        ref: name,
        manifestDigest: resolved.manifestDescriptor.digest,
        platform: formatPlatform(at.platform),
        layers: resolved.manifest.layers,
        diffIDs: resolved.config.rootfs.diff_ids,
        config: resolved.config,
      };
    },
  };
}

/** Whether the store's image (a manifest, or an index with the platform's manifest present) serves `platform`. */
async function holdsPlatform(store: Store, target: Descriptor, platform: Platform, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await resolveImage(store.content, target, { platform, ...(signal ? { signal } : {}) });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** A plain manifest whose descriptor names a platform that is not `platform` (an index was matched by holdsPlatform). */
function otherPlatform(target: Descriptor, platform: Platform): boolean {
  return target.platform !== undefined && !isIndexType(target.mediaType) && !platformMatches(platform, target.platform);
}

function notFound(ref: string, mode: PullMode, canPull: boolean, at: { file: string; range: SourceRange }): DockerfileError {
  const hint = mode === 'never' ? 'and --offline allows no pull'
    : canPull ? 'and cannot be pulled' : 'and this build has no registry access (tsbuild pull, import or load it)';
  return new DockerfileError(`image "${ref}" not found in the store ${hint}`, at.file, at.range, { code: 'BUILD_BASE_IMAGE_NOT_FOUND' });
}

/** `tsbuild.base-images` of --metadata-file: each image the build read, by the name it was asked for and the manifest used. */
export function baseImagesMetadata(images: Iterable<ResolvedBase>): Array<{ ref: string; digest: Digest; platform: string }> {
  const seen = new Set<string>();
  const out: Array<{ ref: string; digest: Digest; platform: string }> = [];
  for (const i of images) {
    const key = `${i.ref} ${i.manifestDigest}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ ref: i.ref, digest: i.manifestDigest, platform: i.platform });
  }
  return out;
}
