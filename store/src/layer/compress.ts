/**
 * Parallel layer compression, the pigz / zstd -T idea: the input is cut into
 * fixed-size chunks at fixed offsets, each chunk is compressed independently
 * (one gzip member or one zstd frame) on the worker pool, and the results are
 * emitted in input order.
 *
 * The output is a valid stream for every standard decoder: RFC 1952 defines a
 * gzip file as a series of members (gzip(1), zcat, Node's gunzip and Go's
 * compress/gzip all read them in sequence), and the zstd format defines a
 * stream as a series of frames (zstd(1) and libzstd decode them back to back).
 *
 * One exception to zlib's bytes: the empty tar gzip'd is the well-known blob
 * Go writes (empty-tar.ts), so an empty layer has BuildKit's blob digest.
 *
 * Deterministic: chunk boundaries depend only on byte offsets (never on how the
 * input was split into writes), and members carry no name or mtime, so the same
 * input with the same compression, level and chunkSize gives the same bytes
 * whatever the thread count.
 *
 * Memory is bounded: at most `threads` chunks are in flight; the writable side
 * waits (backpressure) until the oldest one has been emitted.
 */
import { createRequire } from 'node:module';
import { PassThrough, Transform, type Duplex, type TransformCallback } from 'node:stream';
import { availableParallelism } from 'node:os';
import { CanceledError, InvalidArgumentError, type Compression } from '@tsbuild/core';
import { compressChunk, type ChunkCompression } from './compress-chunk.js';
import { EMPTY_TAR_GZIP, isEmptyTar } from './empty-tar.js';
import { sharedCompressPool, type CompressPool } from './compress-pool.js';

export interface CompressStreamOptions {
  /** gzip 1–9 (default 6, zlib's default), zstd 1–22 (default 3). */
  level?: number;
  /** Chunks in flight at once (default `os.availableParallelism()`). 1 still uses a worker for large input. */
  threads?: number;
  /** Bytes of input per member / frame (default 1 MiB). Part of the output's identity. */
  chunkSize?: number;
  signal?: AbortSignal;
  /** Pool to use instead of the process-wide one (tests, benchmarks). */
  pool?: CompressPool;
}

export const DEFAULT_CHUNK_SIZE = 1 << 20;

/** A Transform from raw bytes to `compression`ed bytes; 'none' is a pass-through. */
export function createCompressStream(compression: Compression, options: CompressStreamOptions = {}): Duplex {
  if (compression === 'none') return withSignal(new PassThrough(), options.signal);
  if (compression !== 'gzip' && compression !== 'zstd') {
    throw new InvalidArgumentError(`unknown compression ${JSON.stringify(compression)}`, { code: 'STORE_COMPRESSION_UNKNOWN' });
  }
  return withSignal(new ParallelCompressor(compression, options), options.signal);
}

/** A Transform from `compression`ed bytes (any number of members / frames) to raw bytes. */
export function createDecompressStream(compression: Compression, options: { signal?: AbortSignal } = {}): Duplex {
  // zlib and zstd-napi load on first use: a build whose layers are plain tars never needs either (~7 ms of start-up).
  const load = createRequire(import.meta.url);
  const stream =
    // 128 KiB output chunks, not zlib's 16 KiB: an eighth of the callbacks and of the pieces the tar reader joins.
    compression === 'gzip' ? (load('node:zlib') as typeof import('node:zlib')).createGunzip({ chunkSize: 128 << 10 })
    : compression === 'zstd' ? new (load('zstd-napi') as typeof import('zstd-napi')).DecompressStream()
    : new PassThrough();
  return withSignal(stream, options.signal);
}

function withSignal<T extends Duplex>(stream: T, signal: AbortSignal | undefined): T {
  if (!signal) return stream;
  const onAbort = () => stream.destroy(new CanceledError('compression canceled'));
  if (signal.aborted) queueMicrotask(onAbort);
  else {
    signal.addEventListener('abort', onAbort, { once: true });
    stream.once('close', () => signal.removeEventListener('abort', onAbort));
  }
  return stream;
}

class ParallelCompressor extends Transform {
  private readonly chunkSize: number;
  private readonly maxInFlight: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Compressed chunks not yet pushed, oldest first. */
  private readonly inFlight: Promise<Buffer>[] = [];
  private submitted = 0;

  constructor(
    private readonly compression: ChunkCompression,
    private readonly options: CompressStreamOptions,
  ) {
    super();
    this.chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
    if (!(this.chunkSize >= 1024)) throw new InvalidArgumentError('chunkSize must be at least 1024 bytes', { code: 'STORE_COMPRESS_CHUNK_SIZE' });
    this.maxInFlight = Math.max(1, options.threads ?? availableParallelism());
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.drainFull().then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    (async () => {
      await this.drainFull();
      if (this.pendingBytes > 0 || this.submitted === 0) {
        const rest = this.cutChunk(this.pendingBytes);
        // Input smaller than one chunk: no worker round-trip. The whole input being the empty tar, gzip gives its
        // well-known bytes (empty-tar.ts).
        if (this.submitted === 0) {
          this.push(this.compression === 'gzip' && isEmptyTar(rest) ? Buffer.from(EMPTY_TAR_GZIP) : compressChunk(this.compression, rest, this.options.level));
        }
        else this.submit(rest);
      }
      while (this.inFlight.length > 0) this.push(await this.inFlight.shift()!);
    })().then(() => callback(), callback);
  }

  /** Submits every full chunk, waiting for the oldest result whenever the limit is reached. */
  private async drainFull(): Promise<void> {
    while (this.pendingBytes >= this.chunkSize) {
      while (this.inFlight.length >= this.maxInFlight) this.push(await this.inFlight.shift()!);
      if (this.destroyed) return;
      this.submit(this.cutChunk(this.chunkSize));
    }
  }

  private submit(data: Buffer): void {
    const job = (this.options.pool ?? sharedCompressPool()).run(this.compression, data, this.options.level);
    job.catch(() => {}); // observed when it reaches the head; avoid an unhandled rejection meanwhile
    this.inFlight.push(job);
    this.submitted++;
  }

  /** The first `n` pending bytes as one buffer that owns its memory (so it can be transferred). */
  private cutChunk(n: number): Buffer {
    const out = Buffer.allocUnsafeSlow(n);
    let off = 0;
    while (off < n) {
      const head = this.pending[0]!;
      const want = n - off;
      if (head.length <= want) {
        head.copy(out, off);
        off += head.length;
        this.pending.shift();
      } else {
        head.copy(out, off, 0, want);
        this.pending[0] = head.subarray(want);
        off += want;
      }
    }
    this.pendingBytes -= n;
    return out;
  }
}
