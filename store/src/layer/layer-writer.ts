/**
 * Tar stream → compressed blob in the content store, in one pass: the
 * uncompressed bytes are hashed (the diffID) on their way into the
 * compressor, whose output streams into the ingester (which hashes the blob
 * digest and commits it atomically); uncompressed, the blob digest is the
 * diffID and the bytes are hashed once. Nothing is buffered beyond the
 * compressor's bounded in-flight chunks.
 */
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CanceledError, Digester, isCanceled, layerMediaType, throwIfAborted } from '@tsbuild/core';
import type { ContentIngester, LayerInfo, LayerWriteOptions } from '../types.js';
import { createCompressStream, type CompressStreamOptions } from './compress.js';

export interface WriteLayerOptions extends LayerWriteOptions {
  /** Tuning of the parallel compressor (level, threads, chunk size). */
  compressor?: Omit<CompressStreamOptions, 'signal'>;
}

/**
 * Compresses `tar` (default gzip) into `ingester` and returns the blob's
 * descriptor (media type from `layerMediaType(compression, flavor)`) and the
 * diffID of the uncompressed tar. `sourceDateEpoch` does not apply here: the
 * tar producer (`packDirectory`) clamps mtimes. On abort or any failure the
 * source is destroyed and the ingester's partial write is discarded by it
 * (a failed ingest commits nothing); the error is a CanceledError on abort.
 */
export async function writeLayer(tar: Readable, ingester: ContentIngester, options: WriteLayerOptions = {}): Promise<LayerInfo> {
  throwIfAborted(options.signal);
  const compression = options.compression ?? 'gzip';
  // Uncompressed, the blob is the tar: the ingester's own hash is the diffID, so the bytes are hashed once.
  const diff = compression === 'none' ? undefined : new Digester();
  const hashTar = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      diff?.update(chunk);
      callback(null, chunk);
    },
  });
  const compressor = diff ? createCompressStream(compression, { ...options.compressor }) : hashTar;

  // One controller stops both halves when either fails or the caller aborts.
  const stop = new AbortController();
  const onAbort = () => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const piped = diff ? pipeline(tar, hashTar, compressor, { signal: stop.signal }) : pipeline(tar, hashTar, { signal: stop.signal });
  const ingested = ingester.ingest(compressor, undefined, { signal: stop.signal });
  piped.catch(() => stop.abort());
  ingested.catch(() => stop.abort());
  try {
    const [pipeResult, ingestResult] = await Promise.allSettled([piped, ingested]);
    if (options.signal?.aborted) throw new CanceledError('layer write canceled');
    const failure = [pipeResult, ingestResult].find((r): r is PromiseRejectedResult => r.status === 'rejected' && !isCanceled(r.reason));
    if (failure) throw failure.reason;
    if (pipeResult.status === 'rejected') throw pipeResult.reason;
    if (ingestResult.status === 'rejected') throw ingestResult.reason;
    const blob = ingestResult.value;
    return {
      descriptor: { mediaType: layerMediaType(compression, options.flavor ?? 'oci'), digest: blob.digest, size: blob.size },
      diffID: diff ? diff.digest() : blob.digest,
    };
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    if (!tar.destroyed && stop.signal.aborted) tar.destroy();
  }
}
