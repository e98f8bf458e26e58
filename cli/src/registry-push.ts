/**
 * Pushes an image of the store to the registry its name points at (for
 * `tsbuild push` and a build's push). Layers the store keeps
 * uncompressed are compressed first (gzip unless asked otherwise) through the store's convertImage, whose
 * layer-variants memo keeps the compressed blob, so the next push does not
 * compress again; blobs stream from the store, held by a lease until the
 * manifest is up. An index is pushed as an index: each of its manifests the
 * store holds is converted and pushed by digest, then the index naming them
 * (platform and annotations kept); manifests the store lacks (an index
 * pulled or loaded for some platforms) are left out, with a warning. A blob
 * the store knows is in another repository of the same registry (it was
 * pulled from or pushed to it: store.sources) is mounted from there rather
 * than uploaded; what was pushed is recorded as being in the target.
 */
import { randomUUID } from 'node:crypto';
import {
  isIndexType, isLayerType, isManifestType, isNotFound, parseReference, shortDigest,
  type Compression, type Descriptor, type Digest, type ImageReference, type Index, type Manifest,
} from '@tsbuild/core';
import { RegistryClient, dockerConfigCredentials, pushManifest, putManifest, selectMountCandidate, type RegistryClientOptions } from '@tsbuild/registry-client';
import { convertImage, readBlobBytes, readJson, type Store } from '@tsbuild/store';

export interface PushResult {
  mediaType: string;
  digest: Digest;
  size: number;
}

export interface PushOptions {
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  client?: RegistryClientOptions;
  warn?: (message: string) => void;
  /** The layers' compression in the registry (default gzip); layers compressed another way are kept unless `forceCompression`. */
  compression?: Compression;
  forceCompression?: boolean;
  /** For layers compressed now (a variant already in the store is reused whatever its level). */
  compressionLevel?: number;
  /** One line per blob: `<short digest>: Pushed | Layer already exists | Mounted`. */
  onBlob?: (line: string) => void;
}

export async function pushStoredImage(store: Store, name: string, options: PushOptions = {}): Promise<PushResult> {
  const { signal } = options;
  const cancel = signal ? { signal } : {};
  const ref = parseReference(name);
  const record = await store.images.get(name);
  const lease = await store.leases.create({ id: `push-${randomUUID()}`, ttlMs: 3600_000 });
  const client = new RegistryClient(options.client ?? { credentials: dockerConfigCredentials(options.env ? { env: options.env } : {}) });
  const hold = (digest: Digest) => store.leases.addResource(lease.id, { type: 'content', digest });

  /** A repository of the target registry the store knows holds `digest` (pulled from or pushed to it). */
  const knownIn = async (digest: Digest) => selectMountCandidate(ref.repository, (await store.sources.get(digest))[ref.registry] ?? []);

  /** One image manifest: its layers gzip'd where the store keeps them uncompressed, its blobs, then itself under `target`. */
  const pushImage = async (desc: Descriptor, target: ImageReference): Promise<Descriptor> => {
    const manifest = await readJson<Manifest>(store.content, desc, cancel);
    const convertible = manifest.layers.every((l) => isLayerType(l.mediaType));
    const converted = convertible
      ? await convertImage(desc, {
        root: store.root, content: store.content, compression: options.compression ?? 'gzip', ...cancel, onBlob: (blob) => hold(blob.digest),
        ...(options.forceCompression ? { force: true } : {}), ...(options.compressionLevel !== undefined ? { level: options.compressionLevel } : {}),
      })
      : desc;
    await hold(converted.digest);
    const bytes = await readBlobBytes(store.content, converted.digest, cancel);
    const pushed = JSON.parse(bytes.toString('utf8')) as Manifest;
    const blobs = [pushed.config, ...pushed.layers];
    const candidates = new Map(await Promise.all(blobs.map(async (b) => [b.digest, await knownIn(b.digest)] as const)));
    const digest = await pushManifest(client, target, { mediaType: converted.mediaType, bytes, blobs },
      (blob, start) => store.content.reader(blob.digest, { start, ...cancel }), {
        ...cancel,
        mountFrom: (d) => candidates.get(d),
        onBlob: (e) => options.onBlob?.(`${shortDigest(e.digest)}: ${e.result === 'exists' ? 'Layer already exists' : e.result === 'mounted' ? 'Mounted' : 'Pushed'}`),
      });
    // Now in the target repository: a later push to another repository of this registry can mount them from here.
    await store.sources.add([...blobs.map((b) => b.digest), digest], target.registry, target.repository);
    return { mediaType: converted.mediaType, digest, size: bytes.length };
  };

  try {
    if (!isIndexType(record.target.mediaType)) {
      const pushed = await pushImage(record.target, ref);
      return { mediaType: pushed.mediaType, digest: pushed.digest, size: pushed.size };
    }
    const index = await readJson<Index>(store.content, record.target, cancel);
    const byDigest: ImageReference = { registry: ref.registry, repository: ref.repository };
    const manifests: Descriptor[] = [];
    for (const child of index.manifests) {
      const present = await store.content.info(child.digest).then(() => true, (err: unknown) => { if (isNotFound(err)) return false; throw err; });
      if (!present || !isManifestType(child.mediaType)) {
        options.warn?.(`${name}: ${child.digest} (${child.platform ? `${child.platform.os}/${child.platform.architecture}` : child.mediaType}) is ${present ? 'not an image manifest' : 'not in the store'}: left out of the pushed index`);
        continue;
      }
      const pushed = await pushImage(child, byDigest);
      manifests.push({ ...child, mediaType: pushed.mediaType, digest: pushed.digest, size: pushed.size });
    }
    const bytes = Buffer.from(JSON.stringify({ ...index, manifests }));
    const mediaType = index.mediaType ?? record.target.mediaType;
    const digest = await putManifest(client, ref, mediaType, bytes, signal);
    return { mediaType, digest, size: bytes.length };
  } finally {
    await client.close();
    await store.leases.delete(lease.id).catch(() => undefined);
  }
}

/** docker's last line of a push: `v1: digest: sha256:… size: 528`. */
export function pushedLine(name: string, result: PushResult): string {
  const ref = parseReference(name);
  return `${ref.tag ?? ref.digest}: digest: ${result.digest} size: ${result.size}`;
}
