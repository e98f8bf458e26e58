/**
 * Push (distribution spec "Pushing blobs", "Pushing manifests"): a HEAD
 * skips a blob the repository has; a blob known to be in another repository
 * of the same registry is mounted (POST `?mount=&from=`; a 202 means the
 * registry declined and an upload starts instead); other blobs are uploaded
 * in chunks of `chunkSize` read from the source — one monolithic PUT when
 * the blob fits in a chunk, else PATCHes with `Content-Range` and a closing
 * PUT `?digest=`. Each chunk is a Buffer, so the retry layer may resend it;
 * when a chunk still fails, the upload resumes from the offset the registry
 * reports (GET on the upload's Location → `Range`), so a connection dropped
 * between chunks costs no byte already acknowledged; an upload the registry
 * no longer accepts (distribution invalidates one whose PATCH was partly
 * written: see uploadStatus) is uploaded again from byte 0 (at most twice).
 * Memory is bounded by chunkSize × concurrency whatever the blob size.
 */
import type { Readable } from 'node:stream';
import { InvalidArgumentError, RegistryError, isCanceled, sha256, type Descriptor, type Digest, type ImageReference } from '@tsbuild/core';
import type { RegistryClient, RepositoryRequest } from './client.js';
import { repositoryScope } from './token.js';
import { discard } from './transport.js';

export const DEFAULT_CHUNK_SIZE = 8 << 20;

/** Pure request builders. */
export const pushRequests = {
  headBlob: (digest: string): RepositoryRequest => ({ method: 'HEAD', path: `/blobs/${digest}`, operation: 'HEAD blob', digest }),
  startUpload: (): RepositoryRequest => ({ method: 'POST', path: '/blobs/uploads/', operation: 'POST blob upload', headers: { 'content-length': '0' } }),
  mount: (digest: string, from: string): RepositoryRequest => ({
    method: 'POST', path: `/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, operation: `POST blob mount from ${from}`, digest, headers: { 'content-length': '0' },
  }),
  patch: (location: string, digest: string, start: number, chunk: Buffer): RepositoryRequest => ({
    method: 'PATCH', path: location, operation: 'PATCH blob upload', digest, body: chunk,
    headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${start + chunk.length - 1}`, 'content-length': String(chunk.length) },
  }),
  put: (location: string, digest: string, chunk: Buffer): RepositoryRequest => ({
    method: 'PUT', path: withDigest(location, digest), operation: 'PUT blob upload', digest, body: chunk,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(chunk.length) },
  }),
  putManifest: (reference: string, mediaType: string, bytes: Buffer): RepositoryRequest => ({
    method: 'PUT', path: `/manifests/${reference}`, operation: `PUT manifest ${reference}`, body: bytes, headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
  }),
};

function withDigest(location: string, digest: string): string {
  const url = new URL(location, 'http://relative.invalid');
  url.searchParams.set('digest', digest);
  return location.startsWith('/') ? `${url.pathname}${url.search}` : url.toString();
}

/** Opens a blob's bytes from `start`; the store's reader does this. */
export type BlobOpener = (desc: Descriptor, start: number) => Promise<Readable>;

export interface PushBlobOptions {
  chunkSize?: number;
  signal?: AbortSignal;
  /** A repository of the same registry known to hold the blob. */
  mountFrom?: string | undefined;
}

export type BlobPushResult = 'exists' | 'mounted' | 'uploaded';

async function blobExists(client: RegistryClient, ref: ImageReference, digest: Digest, signal?: AbortSignal): Promise<boolean> {
  const req = { ...pushRequests.headBlob(digest), signal };
  const res = await client.send(ref.registry, ref.repository, ['pull', 'push'], req);
  discard(res);
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw await client.failure(ref.registry, ref.repository, req, res);
}

export async function pushBlob(client: RegistryClient, ref: ImageReference, desc: Descriptor, open: BlobOpener, options: PushBlobOptions = {}): Promise<BlobPushResult> {
  if (await blobExists(client, ref, desc.digest, options.signal)) return 'exists';
  for (let attempt = 0; ; attempt++) {
    try {
      return await uploadOnce(client, ref, desc, open, attempt === 0 ? options : { ...options, mountFrom: undefined });
    } catch (err) {
      if (attempt >= 2 || !restartable(err)) throw err;
    }
  }
}

/**
 * An upload the registry no longer accepts: a connection cut mid-chunk (the
 * retry layer's resend then finds the upload's state stale: distribution
 * answers 404 BLOB_UPLOAD_INVALID, or 416) — start a new upload from byte 0.
 */
function restartable(err: unknown): boolean {
  return err instanceof RegistryError && (err.status === 0 || err.status === 416 || err.ociCode === 'BLOB_UPLOAD_INVALID' || err.ociCode === 'BLOB_UPLOAD_UNKNOWN');
}

async function uploadOnce(client: RegistryClient, ref: ImageReference, desc: Descriptor, open: BlobOpener, options: PushBlobOptions): Promise<BlobPushResult> {
  const { signal } = options;
  const upload: Upload = { client, ref, signal, ok: (status) => status === 202 || (status === 201 && !!options.mountFrom) };
  const start = options.mountFrom && options.mountFrom !== ref.repository
    ? pushRequests.mount(desc.digest, options.mountFrom) : pushRequests.startUpload();
  const started = await sendExpecting(upload, start, 202, options.mountFrom ? [repositoryScope(options.mountFrom, ['pull'])] : []);
  if (started.status === 201) return 'mounted';
  const at: UploadPosition = { location: located(started.headers['location'], ref, start), offset: 0 };
  for (let resumes = 0; ; resumes++) {
    try {
      await sendFrom(upload, desc, open, at, options.chunkSize ?? DEFAULT_CHUNK_SIZE);
      return 'uploaded';
    } catch (err) {
      if (resumes >= MAX_RESUMES || !resumable(err)) throw err;
      // Ask the registry how much it holds; an upload it no longer knows is started again from byte 0 by pushBlob.
      const status = await uploadStatus(upload, at.location).catch((e: unknown) => { if (isCanceled(e)) throw e; return undefined; });
      if (!status || status.offset > desc.size) throw err;
      Object.assign(at, status);
    }
  }
}

/** Resumes of one upload from the registry's reported offset before it is given up (and restarted from 0). */
const MAX_RESUMES = 3;

interface Upload {
  client: RegistryClient;
  ref: ImageReference;
  signal: AbortSignal | undefined;
  ok: (status: number) => boolean;
}

/** Where an upload stands: the latest Location the registry gave and the bytes it has acknowledged. */
interface UploadPosition {
  location: string;
  offset: number;
}

async function sendExpecting(u: Upload, req: RepositoryRequest, status: number, extra: string[] = []) {
  const res = await u.client.send(u.ref.registry, u.ref.repository, ['pull', 'push'], { ...req, signal: u.signal }, extra);
  if (res.status !== status && !(status === 202 && u.ok(res.status))) throw await u.client.failure(u.ref.registry, u.ref.repository, req, res);
  discard(res);
  return res;
}

/** PATCHes the blob's bytes from `at.offset` in chunks (moving `at` after each acknowledged one), then the closing PUT. */
async function sendFrom(u: Upload, desc: Descriptor, open: BlobOpener, at: UploadPosition, chunkSize: number): Promise<void> {
  if (at.offset === desc.size) {
    await sendExpecting(u, pushRequests.put(at.location, desc.digest, Buffer.alloc(0)), 201);
    return;
  }
  const source = await open(desc, at.offset);
  try {
    let offset = at.offset;
    for await (const chunk of readChunks(source, chunkSize)) {
      if (offset + chunk.length >= desc.size) {
        await sendExpecting(u, pushRequests.put(at.location, desc.digest, chunk), 201);
        offset += chunk.length;
        break;
      }
      const req = pushRequests.patch(at.location, desc.digest, offset, chunk);
      const location = located((await sendExpecting(u, req, 202)).headers['location'], u.ref, req);
      offset += chunk.length;
      Object.assign(at, { location, offset });
    }
    if (offset !== desc.size) throw new InvalidArgumentError(`blob ${desc.digest}: read ${offset} bytes, the descriptor says ${desc.size}`, { code: 'REGISTRY_BLOB_SIZE' });
  } finally {
    source.destroy();
  }
}

/**
 * A failure an upload may resume from: the connection dropped (status 0, after
 * the retry layer's resends), or the registry refused a resent chunk's range.
 */
function resumable(err: unknown): boolean {
  return err instanceof RegistryError && (err.status === 0 || err.status === 416);
}

/**
 * `GET <location>` (distribution spec "Get upload status"): 204 with `Range:
 * 0-<last>` and a fresh Location. distribution (registry/handlers/blobupload.go,
 * ResumeBlobUpload) answers so only while the upload's size still equals the
 * offset sealed in the location's `_state`, i.e. when the broken request wrote
 * nothing; after a partly written chunk it answers 416 or 404
 * BLOB_UPLOAD_INVALID and the upload starts again.
 */
async function uploadStatus(u: Upload, location: string): Promise<UploadPosition | undefined> {
  const req: RepositoryRequest = { method: 'GET', path: location, operation: 'GET blob upload status' };
  const res = await u.client.send(u.ref.registry, u.ref.repository, ['pull', 'push'], { ...req, signal: u.signal });
  discard(res);
  const range = /^(?:bytes=)?0-(\d+)$/.exec(res.headers['range'] ?? '');
  if (res.status !== 204 || !range) return undefined;
  return { location: located(res.headers['location'] ?? location, u.ref, req), offset: Number(range[1]) + 1 };
}

function located(location: string | undefined, ref: ImageReference, req: RepositoryRequest): string {
  if (!location) throw new InvalidArgumentError(`registry ${ref.registry}, repository ${ref.repository}: ${req.operation}: no Location in the answer`, { code: 'REGISTRY_UPLOAD_INVALID' });
  // A relative `/v2/…` location is resolved against the registry by RegistryClient.send.
  return location;
}

/**
 * Splits a stream into Buffers of exactly `size` bytes (the last may be
 * shorter). Each piece is copied once into the chunk's own buffer as it
 * arrives: a chunk costs `size` bytes, not its pieces plus a joined copy.
 * Every chunk gets a new buffer (the retry layer may still resend the last).
 */
async function* readChunks(source: Readable, size: number): AsyncGenerator<Buffer> {
  let chunk: Buffer | undefined;
  let have = 0;
  for await (const c of source) {
    let buf = c as Buffer;
    while (buf.length > 0) {
      chunk ??= Buffer.allocUnsafe(size);
      const n = buf.copy(chunk, have, 0, Math.min(buf.length, size - have));
      have += n;
      buf = buf.subarray(n);
      if (have === size) {
        yield chunk;
        chunk = undefined;
        have = 0;
      }
    }
  }
  if (chunk && have > 0) yield Buffer.from(chunk.subarray(0, have));
}

/**
 * The repository to mount a blob from, of those of the same registry known
 * to hold it: the one sharing the most leading path components with
 * `target` (a later one wins a tie), never `target` itself — containerd's
 * selectRepositoryMountCandidate (core/remotes/docker/handler.go).
 */
export function selectMountCandidate(target: string, repositories: readonly string[]): string | undefined {
  const components = target.split('/');
  let best = -1;
  let match: string | undefined;
  for (const repo of repositories) {
    if (repo === target) continue;
    const other = repo.split('/');
    let n = 0;
    while (n < components.length && n < other.length && components[n] === other[n]) n++;
    if (n >= best) [best, match] = [n, repo];
  }
  return match;
}

export interface PushImageOptions {
  signal?: AbortSignal;
  chunkSize?: number;
  /** Blobs pushed at once (default 3). */
  concurrency?: number;
  /** A repository of the same registry known to hold a blob, for a cross-repository mount. */
  mountFrom?: (digest: Digest) => string | undefined;
  onBlob?: (event: { digest: Digest; size: number; result: BlobPushResult }) => void;
}

/**
 * Pushes the blobs a manifest names, then the manifest under the reference's
 * tag (or its digest); returns the manifest's digest as the registry names it.
 */
export async function pushManifest(client: RegistryClient, ref: ImageReference, manifest: { mediaType: string; bytes: Buffer; blobs: readonly Descriptor[] }, open: BlobOpener, options: PushImageOptions = {}): Promise<Digest> {
  let next = 0;
  const worker = async () => {
    while (next < manifest.blobs.length) {
      const blob = manifest.blobs[next++]!;
      const result = await pushBlob(client, ref, blob, open, { ...options, mountFrom: options.mountFrom?.(blob.digest) });
      options.onBlob?.({ digest: blob.digest, size: blob.size, result });
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 3, manifest.blobs.length) }, worker));
  return putManifest(client, ref, manifest.mediaType, manifest.bytes, options.signal);
}

export async function putManifest(client: RegistryClient, ref: ImageReference, mediaType: string, bytes: Buffer, signal?: AbortSignal): Promise<Digest> {
  const digest = sha256(bytes);
  const req = { ...pushRequests.putManifest(ref.tag ?? digest, mediaType, bytes), digest, signal };
  const res = await client.send(ref.registry, ref.repository, ['pull', 'push'], req);
  if (res.status !== 201) throw await client.failure(ref.registry, ref.repository, req, res);
  discard(res);
  const answered = res.headers['docker-content-digest'];
  if (answered && answered !== digest) throw new InvalidArgumentError(`registry ${ref.registry}, repository ${ref.repository}: the registry names the manifest ${answered}, its bytes hash to ${digest}`, { code: 'REGISTRY_MANIFEST_DIGEST' });
  return digest;
}
