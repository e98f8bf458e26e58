/**
 * Blob → uncompressed tar stream. The compression comes from the media type;
 * when the type says uncompressed or is unknown, from the magic bytes (gzip
 * `1f 8b`, zstd `28 b5 2f fd`), because registries and old tools mislabel layers.
 */
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CanceledError, Digester, throwIfAborted, DigestMismatchError, layerCompression, type Compression, type Descriptor, type Digest } from '@tsbuild/core';
import type { ContentProvider } from '../types.js';
import { createDecompressStream } from './compress.js';

export interface OpenLayerOptions {
  signal?: AbortSignal;
  /** The expected diffID: the stream errors with DigestMismatchError at its end if the tar does not hash to it. */
  verifyDiffID?: Digest;
}

/** Compression named by the first bytes of a blob, `none` when neither magic matches. */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/**
 * The layer's uncompressed tar. The caller consumes (or destroys) the stream;
 * errors of the blob read, the decompression and the diffID check surface on it.
 */
export async function openLayer(provider: ContentProvider, descriptor: Descriptor, options: OpenLayerOptions = {}): Promise<Readable> {
  const signal = options.signal;
  throwIfAborted(signal);
  const blob = await provider.reader(descriptor.digest, signal ? { signal } : {});
  if (signal?.aborted) {
    blob.destroy();
    throw new CanceledError('layer read canceled');
  }
  return layerTar(blob, descriptor, options);
}

/** The uncompressed tar of a layer blob read from `blob` (the store's file, or a download as it arrives). */
export function layerTar(blob: Readable, descriptor: Descriptor, options: OpenLayerOptions = {}): Readable {
  const signal = options.signal;
  const out = new PassThrough();
  // The caller sees a CanceledError, never a bare AbortError from inside the pipeline.
  const onAbort = () => out.destroy(new CanceledError('layer read canceled'));
  signal?.addEventListener('abort', onAbort, { once: true });
  out.once('close', () => signal?.removeEventListener('abort', onAbort));
  let compression = layerCompression(descriptor.mediaType);
  const verify = options.verifyDiffID;
  const diff = new Digester();
  const check = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      diff.update(chunk);
      callback(null, chunk);
    },
    flush(callback) {
      const actual = diff.digest();
      callback(verify && actual !== verify ? new DigestMismatchError(verify, actual, { code: 'STORE_DIFFID_MISMATCH' }) : null);
    },
  });

  const run = async () => {
    let source: Readable = blob;
    if (compression === 'none') {
      // Peek at the magic without consuming it.
      const { head, rest } = await peek(blob, 4);
      compression = sniffCompression(head);
      source = rest;
    }
    await pipeline(source, createDecompressStream(compression), check, out);
  };
  run().catch((err: unknown) => {
    blob.destroy();
    out.destroy(signal?.aborted ? new CanceledError('layer read canceled', { cause: err }) : err instanceof Error ? err : new Error(String(err)));
  });
  return out;
}

/** Reads at least `n` bytes (or to the end) and returns them plus a stream of everything, those bytes included. */
async function peek(stream: Readable, n: number): Promise<{ head: Buffer; rest: Readable }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const it = stream[Symbol.asyncIterator]();
  while (size < n) {
    const next = await it.next();
    if (next.done) break;
    chunks.push(next.value as Buffer);
    size += (next.value as Buffer).length;
  }
  async function* all() {
    yield* chunks;
    for (let next = await it.next(); !next.done; next = await it.next()) yield next.value as Buffer;
  }
  // Readable.from handles backpressure and, on destroy, returns the iterator (which destroys `stream`).
  const rest = Readable.from(all(), { objectMode: false });
  return { head: Buffer.concat(chunks), rest };
}

/**
 * Any tar stream, compressed or not (gzip, zstd or plain, by its magic bytes)
 * → the plain tar. For archives and root filesystems given by users, whose
 * compression nothing declares.
 */
export async function openLayerStream(source: Readable, options: { signal?: AbortSignal } = {}): Promise<Readable> {
  throwIfAborted(options.signal);
  const { head, rest } = await peek(source, 4);
  const out = new PassThrough();
  pipeline(rest, createDecompressStream(sniffCompression(head)), out, options.signal ? { signal: options.signal } : {}).catch((err: unknown) => {
    out.destroy(options.signal?.aborted ? new CanceledError('read canceled', { cause: err }) : err instanceof Error ? err : new Error(String(err)));
  });
  return out;
}
