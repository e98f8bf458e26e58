/**
 * Compresses one whole chunk into one self-contained unit: a complete gzip
 * member or a complete zstd frame. Runs in the compression workers and, for
 * input smaller than one chunk, on the calling thread.
 */
import { createRequire } from 'node:module';
import type { Compressor } from 'zstd-napi';

export type ChunkCompression = 'gzip' | 'zstd';

const zstdCompressors = new Map<number, Compressor>();
/** zstd-napi, loaded on first use: a gzip-only worker thread then never loads the native addon (~10 ms of its start-up). */
let zstd: typeof import('zstd-napi') | undefined;
/** zlib, likewise: a build of uncompressed layers never loads it. */
let zlibModule: typeof import('node:zlib') | undefined;
const zlib = () => (zlibModule ??= createRequire(import.meta.url)('node:zlib') as typeof import('node:zlib'));

/**
 * gzip members come from zlib with no name and mtime 0, so equal input and
 * level give equal bytes (no timestamp leaks into a layer digest). zstd frames
 * carry the content size and no checksum (the layer digest already covers it).
 */
export function compressChunk(compression: ChunkCompression, data: Uint8Array, level?: number): Buffer {
  if (compression === 'gzip') {
    const lvl = level ?? zlib().constants.Z_DEFAULT_COMPRESSION;
    return zlib().gzipSync(data, { level: lvl !== 0 && incompressible(data) ? 0 : lvl });
  }
  const lvl = level ?? 3;
  let cmp = zstdCompressors.get(lvl);
  if (!cmp) {
    zstd ??= createRequire(import.meta.url)('zstd-napi') as typeof import('zstd-napi');
    cmp = new zstd.Compressor();
    cmp.setParameters({ compressionLevel: lvl });
    zstdCompressors.set(lvl, cmp);
  }
  return cmp.compress(data);
}

/** Bytes probed at each of PROBES offsets spread over a chunk. */
const PROBE_BYTES = 16 * 1024;
const PROBES = 3;
/** A probe that deflate (level 1) cannot shrink below this fraction counts as incompressible. */
const INCOMPRESSIBLE_RATIO = 0.97;

/**
 * Whether deflating `data` would be wasted work: already-compressed or random
 * bytes (archives, images, media, encrypted blobs; the 500 MiB random-file
 * COPY of the benchmark). zlib's level 6 spends ~35 ms per MiB on such data
 * to win nothing; a stored (level 0) member costs a copy and a CRC. Decided
 * by deflating three 16 KiB probes (start, middle, end) at level 1, which
 * also sees repetition a byte histogram would miss. Depends only on the
 * bytes, so the output stays deterministic; small chunks are never probed.
 */
export function incompressible(data: Uint8Array): boolean {
  if (data.length < PROBES * PROBE_BYTES * 2) return false;
  const step = Math.floor((data.length - PROBE_BYTES) / (PROBES - 1));
  let packed = 0;
  for (let i = 0; i < PROBES; i++) {
    const probe = data.subarray(i * step, i * step + PROBE_BYTES);
    packed += zlib().deflateRawSync(probe, { level: 1 }).length;
  }
  return packed >= PROBES * PROBE_BYTES * INCOMPRESSIBLE_RATIO;
}

/**
 * `data` as a Uint8Array that owns its whole ArrayBuffer, so it can be
 * transferred to another thread (Node may hand out views into a shared pool).
 */
export function ownedArrayBuffer(data: Uint8Array): Uint8Array {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer) return data;
  return new Uint8Array(data);
}
