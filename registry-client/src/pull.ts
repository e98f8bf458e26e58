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
  /** The manifest `resolveImage` already fetched for this reference (saves fetching it again). */
  resolved?: ResolvedManifest;
  onBlob?: (event: { digest: Digest; size: number; skipped: boolean }) => void;
}

/**
 * Resolves and copies one platform's image into the sink; returns the manifest
 * descriptor to tag. The config goes first (a sink that unpacks layers as they
 * arrive needs its diff ids), then the layers, several at once.
 */
export async function pullImage(client: RegistryClient, ref: ImageReference, sink: BlobSink, options: PullOptions = {}): Promise<Descriptor> {
  const resolved = options.resolved ?? await resolveImage(client, ref, options);
  const manifest = JSON.parse(resolved.bytes.toString('utf8')) as Manifest;
  if (!manifest.config || !Array.isArray(manifest.layers)) {
    throw new InvalidArgumentError(`${ref.registry}/${ref.repository}@${resolved.descriptor.digest}: manifest has no config or layers`, { code: 'REGISTRY_MANIFEST_INVALID' });
  }
  const copy = async (blob: Descriptor) => {
    const skipped = await sink.has(blob.digest);
    if (!skipped) await fetchBlobInto(client, ref, blob, sink, options.signal);
    options.onBlob?.({ digest: blob.digest, size: blob.size, skipped });
  };
  await copy(manifest.config);
  const layers = manifest.layers;
  let next = 0;
  const worker = async () => {
    while (next < layers.length) await copy(layers[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 3, layers.length) }, worker));
  await sink.ingest(Readable.from([resolved.bytes]), { digest: resolved.descriptor.digest, size: resolved.descriptor.size }, { signal: options.signal });
  return resolved.descriptor;
}

/**
 * One blob into the sink. The sink reads one stream whose bytes come from as
 * many GETs as it takes: a body that breaks mid-way (reset, stall past the
 * body timeout) is continued by a GET with `Range: bytes=N-` from the N bytes
 * already handed over, so the sink's ingest file and its sha256 state carry
 * on and nothing is read twice (containerd's core/remotes/docker/httpreadseeker.go
 * `httpReadSeeker.Read` likewise reopens at its offset after an unexpected
 * EOF). A registry that answers the ranged GET with 200 (it ignores Range)
 * sends the whole blob again: its first N bytes are dropped (fetcher.go `open`,
 * errContentRangeIgnored). Three GETs in all; what still fails is a
 * RegistryError naming the blob, never a bare socket error.
 */
export async function fetchBlobInto(client: RegistryClient, ref: ImageReference, blob: Descriptor, sink: BlobSink, signal?: AbortSignal): Promise<void> {
  const first = await openBlob(client, ref, blob, 0, signal);
  const body = Readable.from(blobBytes(client, ref, blob, first, signal), { objectMode: false });
  await sink.ingest(body, { digest: blob.digest, size: blob.size }, { signal });
}

const BLOB_ATTEMPTS = 3;

/** The bytes of `blob` from `first` (a GET from offset 0) on, resumed with Range GETs after a break. */
async function* blobBytes(client: RegistryClient, ref: ImageReference, blob: Descriptor, first: RegistryResponse, signal?: AbortSignal): AsyncGenerator<Buffer> {
  let res = first;
  let offset = 0;
  for (let attempt = 1; ; attempt++) {
    // A 200 to a ranged GET starts from byte 0: skip what was already handed over.
    let skip = res.status === 200 ? offset : 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        const part = skip > 0 ? chunk.subarray(Math.min(skip, chunk.length)) : chunk;
        skip -= chunk.length - part.length;
        if (part.length === 0) continue;
        offset += part.length;
        yield part;
      }
      return;
    } catch (err) {
      if (err instanceof TsbuildError || isCanceled(err) || signal?.aborted) throw err;
      if (attempt >= BLOB_ATTEMPTS) throw registryError({ operation: 'GET blob', registry: ref.registry, repository: ref.repository, digest: blob.digest }, 0, '', err);
    } finally {
      // A sink that stops reading (it holds the blob already) leaves the body unread: free its connection.
      res.body.on('error', () => {});
      res.body.destroy();
    }
    res = await openBlob(client, ref, blob, offset, signal);
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

/** GET of the blob from `offset`: 200 (the whole blob) or, for a ranged GET the registry honours, 206 starting at `offset`. */
async function openBlob(client: RegistryClient, ref: ImageReference, blob: Descriptor, offset: number, signal?: AbortSignal): Promise<RegistryResponse> {
  const base = blobRequest(blob.digest);
  const req = { ...base, signal, ...(offset > 0 ? { headers: { ...base.headers, range: `bytes=${offset}-` } } : {}) };
  const res = await client.send(ref.registry, ref.repository, ['pull'], req);
  if (res.status === 200 || (res.status === 206 && offset > 0 && rangeStart(res.headers['content-range']) === offset)) return res;
  throw await client.failure(ref.registry, ref.repository, req, res);
}

/** The first byte position of a `Content-Range: bytes A-B/N` answer. */
function rangeStart(contentRange: string | undefined): number | undefined {
  const m = /^bytes (\d+)-/.exec(contentRange ?? '');
  return m ? Number(m[1]) : undefined;
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
