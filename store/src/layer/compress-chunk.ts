/**
 * Compresses one whole chunk into one self-contained unit: a complete gzip
 * member or a complete zstd frame. Runs in the compression workers and, for
 * input smaller than one chunk, on the calling thread.
 */
import { gzipSync, constants as zlibConstants } from 'node:zlib';
import { Compressor } from 'zstd-napi';

export type ChunkCompression = 'gzip' | 'zstd';

const zstdCompressors = new Map<number, Compressor>();

/**
 * gzip members come from zlib with no name and mtime 0, so equal input and
 * level give equal bytes (no timestamp leaks into a layer digest). zstd frames
 * carry the content size and no checksum (the layer digest already covers it).
 */
export function compressChunk(compression: ChunkCompression, data: Uint8Array, level?: number): Buffer {
  if (compression === 'gzip') {
    return gzipSync(data, { level: level ?? zlibConstants.Z_DEFAULT_COMPRESSION });
  }
  const lvl = level ?? 3;
  let cmp = zstdCompressors.get(lvl);
  if (!cmp) {
    cmp = new Compressor();
    cmp.setParameters({ compressionLevel: lvl });
    zstdCompressors.set(lvl, cmp);
  }
  return cmp.compress(data);
}

/**
 * `data` as a Uint8Array that owns its whole ArrayBuffer, so it can be
 * transferred to another thread (Node may hand out views into a shared pool).
 */
export function ownedArrayBuffer(data: Uint8Array): Uint8Array {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer) return data;
  return new Uint8Array(data);
}
