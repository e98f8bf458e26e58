/**
 * Helpers over the narrowest content roles (containerd's content/helpers.go).
 * JSON blobs (manifests, indexes, configs) are small: they are read whole,
 * with a size cap, and always verified against their descriptor.
 */
import { Readable } from 'node:stream';
import { InvalidArgumentError, sha256, type Descriptor, type Digest } from '@tsbuild/core';
import type { BlobInfo, Cancellable, ContentIngester, ContentProvider } from '../types.js';

/** Default cap for `readBlobBytes`: manifests and configs are kilobytes, never megabytes. */
export const MAX_JSON_BLOB_BYTES = 8 * 1024 * 1024;

/** Reads a small blob into memory; refuses blobs larger than `maxBytes` (code STORE_BLOB_TOO_LARGE). */
export async function readBlobBytes(provider: ContentProvider, digest: Digest, options: Cancellable & { maxBytes?: number } = {}): Promise<Buffer> {
  const maxBytes = options.maxBytes ?? MAX_JSON_BLOB_BYTES;
  const tooLarge = (size: number) =>
    new InvalidArgumentError(`blob ${digest} is ${size} bytes, more than the ${maxBytes} allowed here`, { code: 'STORE_BLOB_TOO_LARGE' });
  const { size } = await provider.info(digest);
  if (size > maxBytes) throw tooLarge(size);
  const stream = await provider.reader(digest, options.signal ? { signal: options.signal } : {});
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) {
      stream.destroy();
      throw tooLarge(total); // the blob grew under us: do not buffer further
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads and parses a JSON blob, verifying its digest and size against the descriptor. */
export async function readJson<T>(provider: ContentProvider, descriptor: Descriptor, options: Cancellable & { maxBytes?: number } = {}): Promise<T> {
  const bytes = await readBlobBytes(provider, descriptor.digest, options);
  const actual = sha256(bytes);
  if (descriptor.digest.startsWith('sha256:') && actual !== descriptor.digest) {
    throw new InvalidArgumentError(`blob ${descriptor.digest} is corrupt: it hashes to ${actual}`, { code: 'STORE_BLOB_CORRUPT' });
  }
  if (bytes.length !== descriptor.size) {
    throw new InvalidArgumentError(`blob ${descriptor.digest} is ${bytes.length} bytes, descriptor says ${descriptor.size}`, { code: 'STORE_BLOB_SIZE_MISMATCH' });
  }
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (err) {
    throw new InvalidArgumentError(`blob ${descriptor.digest} (${descriptor.mediaType}) is not valid JSON`, { code: 'STORE_INVALID_JSON', cause: err });
  }
}

/**
 * Writes `value` as `JSON.stringify(value)` — exactly as given, keys in their
 * insertion order — so the caller controls the bytes and a manifest written
 * twice has one digest. Returns its descriptor.
 */
export async function writeJson(ingester: ContentIngester, value: unknown, mediaType: string, options: Cancellable = {}): Promise<Descriptor> {
  const bytes = Buffer.from(JSON.stringify(value), 'utf8');
  const digest = sha256(bytes);
  await ingester.ingest(Readable.from([bytes]), { digest, size: bytes.length }, options);
  return { mediaType, digest, size: bytes.length };
}

/** Streams one blob from a provider into an ingester, verified against the descriptor. */
export async function copyBlob(from: ContentProvider, to: ContentIngester, descriptor: Descriptor, options: Cancellable = {}): Promise<BlobInfo> {
  const stream = await from.reader(descriptor.digest, options);
  return to.ingest(stream, { digest: descriptor.digest, size: descriptor.size }, options);
}
