/**
 * Worker-thread entry of the compression pool: one message in, one chunk
 * compressed, one message out. The output buffer is transferred, not copied.
 */
import { parentPort } from 'node:worker_threads';
import { compressChunk, ownedArrayBuffer, type ChunkCompression } from './compress-chunk.js';

export interface CompressRequest {
  id: number;
  compression: ChunkCompression;
  level?: number;
  data: Uint8Array;
}

export type CompressResponse = { id: number; data: Uint8Array } | { id: number; error: string };

parentPort?.on('message', (req: CompressRequest) => {
  try {
    const out = ownedArrayBuffer(compressChunk(req.compression, req.data, req.level));
    parentPort!.postMessage({ id: req.id, data: out } satisfies CompressResponse, [out.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id: req.id, error: err instanceof Error ? err.message : String(err) } satisfies CompressResponse);
  }
});
