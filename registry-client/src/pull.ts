/**
 * Pull through a narrow sink (the store's ContentIngester plus `has`), so
 * this package stays independent of the store: resolve the reference, pick
 * the platform's manifest from an index, then stream the config and layers
 * the sink lacks into it, several at once. The sink verifies size and digest
 * before a blob becomes visible; the manifest is ingested last, so a
 * manifest in the sink means all its blobs are. Tagging is the caller's,
 * after this returns.
 */
import { Readable } from 'node:stream';
import {
  InvalidArgumentError, NotFoundError, TsbuildError, isCanceled, formatPlatform, hostPlatform, isIndexType, platformMatches, sha256,
  DigestMismatchError, type Descriptor, type Digest, type ImageReference, type Index, type Manifest, type Platform,
} from '@tsbuild/core';
import type { RegistryClient } from './client.js';
import { registryError } from './errors.js';
import { blobRequest, checkManifestType, manifestRequest } from './requests.js';
import { discard, type RegistryResponse } from './transport.js';

export interface BlobSink {
  has(digest: Digest): Promise<boolean>;
  ingest(source: Readable, expected: { digest: Digest; size: number }, options?: { signal?: AbortSignal }): Promise<unknown>;
}

export interface ResolvedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
}

/** GET the manifest a reference names (no platform selection); its digest checked against the reference or `Docker-Content-Digest`. */
export async function fetchManifest(client: RegistryClient, ref: ImageReference, reference?: string, signal?: AbortSignal): Promise<ResolvedManifest> {
  const req = { ...manifestRequest(ref, 'GET', reference), signal };
  const res = await client.send(ref.registry, ref.repository, ['pull'], req);
  if (res.status !== 200) throw await client.failure(ref.registry, ref.repository, req, res);
  const bytes = await readAll(res, 4 << 20);
  const digest = sha256(bytes);
  const expected = req.digest ?? res.headers['docker-content-digest'];
  if (expected && expected !== digest) throw new DigestMismatchError(expected, digest);
  const mediaType = checkManifestType(res.headers['content-type'], bytes, `${ref.registry}/${ref.repository}@${digest}`);
  return { descriptor: { mediaType, digest, size: bytes.length }, bytes };
}

/** The platform's image manifest: the reference's own, or the index entry matching `platform` (default the host's). */
export async function resolveImage(client: RegistryClient, ref: ImageReference, options: { platform?: Platform; signal?: AbortSignal } = {}): Promise<ResolvedManifest & { index?: ResolvedManifest }> {
  const top = await fetchManifest(client, ref, undefined, options.signal);
  if (!isIndexType(top.descriptor.mediaType)) return top;
  const platform = options.platform ?? hostPlatform();
  const index = JSON.parse(top.bytes.toString('utf8')) as Index;
  const hit = index.manifests.find((m) => m.platform && platformMatches(platform, m.platform));
  if (!hit) {
    const offered = index.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : '?')).join(', ');
    throw new NotFoundError(`${ref.registry}/${ref.repository}: no manifest for platform ${formatPlatform(platform)} (the index offers ${offered})`, { code: 'REGISTRY_PLATFORM_NOT_FOUND' });
  }
  const manifest = await fetchManifest(client, ref, hit.digest, options.signal);
  return { ...manifest, descriptor: { ...manifest.descriptor, platform: hit.platform! }, index: top };
}

export interface PullOptions {
  platform?: Platform;
  signal?: AbortSignal;
  /** Blobs fetched at once (default 3). */
  concurrency?: number;
  onBlob?: (event: { digest: Digest; size: number; skipped: boolean }) => void;
}

/** Resolves and copies one platform's image into the sink; returns the manifest descriptor to tag. */
export async function pullImage(client: RegistryClient, ref: ImageReference, sink: BlobSink, options: PullOptions = {}): Promise<Descriptor> {
  const resolved = await resolveImage(client, ref, options);
  const manifest = JSON.parse(resolved.bytes.toString('utf8')) as Manifest;
  if (!manifest.config || !Array.isArray(manifest.layers)) {
    throw new InvalidArgumentError(`${ref.registry}/${ref.repository}@${resolved.descriptor.digest}: manifest has no config or layers`, { code: 'REGISTRY_MANIFEST_INVALID' });
  }
  const blobs = [manifest.config, ...manifest.layers];
  let next = 0;
  const worker = async () => {
    while (next < blobs.length) {
      const blob = blobs[next++]!;
      const skipped = await sink.has(blob.digest);
      if (!skipped) await fetchBlobInto(client, ref, blob, sink, options.signal);
      options.onBlob?.({ digest: blob.digest, size: blob.size, skipped });
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 3, blobs.length) }, worker));
  await sink.ingest(Readable.from([resolved.bytes]), { digest: resolved.descriptor.digest, size: resolved.descriptor.size }, { signal: options.signal });
  return resolved.descriptor;
}

/**
 * One blob into the sink. A body that breaks mid-way (reset, stall past the
 * body timeout) leaves nothing in the sink, so the blob is fetched again from
 * the start, up to three times in all; what still fails is a RegistryError
 * naming the blob, never a bare socket error.
 */
export async function fetchBlobInto(client: RegistryClient, ref: ImageReference, blob: Descriptor, sink: BlobSink, signal?: AbortSignal): Promise<void> {
  const req = { ...blobRequest(blob.digest), signal };
  for (let attempt = 1; ; attempt++) {
    const res = await client.send(ref.registry, ref.repository, ['pull'], req);
    if (res.status !== 200) throw await client.failure(ref.registry, ref.repository, req, res);
    // A sink that already holds the blob destroys the body unread; undici's body then emits an AbortError nobody else listens to.
    res.body.on('error', () => {});
    try {
      await sink.ingest(res.body, { digest: blob.digest, size: blob.size }, { signal });
      return;
    } catch (err) {
      res.body.destroy();
      if (err instanceof TsbuildError || isCanceled(err) || signal?.aborted) throw err;
      if (attempt >= 3) throw registryError({ operation: 'GET blob', registry: ref.registry, repository: ref.repository, digest: blob.digest }, 0, '', err);
    }
  }
}

/** A small blob (a config) read whole, at most `limit` bytes, its digest checked. */
export async function fetchSmallBlob(client: RegistryClient, ref: ImageReference, blob: Descriptor, limit: number, signal?: AbortSignal): Promise<Buffer> {
  const req = { ...blobRequest(blob.digest), signal };
  const res = await client.send(ref.registry, ref.repository, ['pull'], req);
  if (res.status !== 200) throw await client.failure(ref.registry, ref.repository, req, res);
  const bytes = await readAll(res, limit);
  const digest = sha256(bytes);
  if (digest !== blob.digest) throw new DigestMismatchError(blob.digest, digest);
  return bytes;
}

async function readAll(res: RegistryResponse, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res.body) {
    size += (c as Buffer).length;
    if (size > limit) { discard(res); throw new InvalidArgumentError(`a document larger than ${limit} bytes`, { code: 'REGISTRY_MANIFEST_INVALID' }); }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
