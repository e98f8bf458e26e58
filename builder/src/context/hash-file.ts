import { closeSync, constants, createReadStream, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Digester, throwIfAborted, type Digest } from '@tsbuild/core';

/** Files the caller says are at most this big are read in one call instead of streamed. */
export const SMALL_FILE = 64 * 1024;

/**
 * sha256 of a file's bytes, streamed (memory does not grow with file size).
 * Never follows a symlink: callers pass regular files they lstat'ed (opened
 * with O_NOFOLLOW on the small-file path; a streamed file is opened by path).
 * `size`: the size the caller's lstat saw, a hint only — the whole file as it
 * is now is hashed either way.
 */
export async function hashFile(path: string, options: { signal?: AbortSignal | undefined; size?: number | bigint | undefined } = {}): Promise<Digest> {
  throwIfAborted(options.signal);
  const size = options.size === undefined ? undefined : Number(options.size);
  if (size !== undefined && size <= SMALL_FILE) {
    const digest = hashSmallFileSync(path, size);
    if (digest) return digest;
  }
  const digester = new Digester();
  // 1 MiB reads: a large file costs a sixteenth of the round trips of the default 64 KiB.
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024, ...(options.signal ? { signal: options.signal } : {}) });
  try {
    for await (const chunk of stream) digester.update(chunk as Buffer);
  } catch (err) {
    throwIfAborted(options.signal);
    throw err;
  }
  return digester.digest();
}

/** One reusable buffer for small reads: the sync path never interleaves with itself. */
let scratch = Buffer.allocUnsafe(SMALL_FILE + 1);

/**
 * sha256 of a small file (lstat said `size` ≤ SMALL_FILE), synchronously
 * (readSmallFileSync); undefined when the file has grown past `size` (the
 * caller then streams it). Synchronous on purpose: for tiny files the async
 * forms' thread-pool round trips, promises and FileHandles cost several
 * times the syscalls (20,000 8-byte files: ~2.1 s through fs/promises,
 * ~0.2 s like this).
 */
export function hashSmallFileSync(path: string, size: number): Digest | undefined {
  if (scratch.length < size + 1) scratch = Buffer.allocUnsafe(size + 1);
  const bytes = readSmallFileSync(path, size, scratch);
  return bytes && `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * The whole of a file an lstat said is `size` bytes, in open (O_NOFOLLOW) +
 * one read + close: a read of one byte more than `size` that returns less is
 * the whole regular file. Undefined when it has grown past that. `into`
 * (at least size + 1 bytes) is read into when given, else a new buffer.
 * O_NONBLOCK: a file swapped for a FIFO since its lstat must not hang the
 * event loop (no effect on regular files); reading it at offset 0 then fails
 * with ESPIPE. Used by the context checksum and by COPY of small files.
 */
export function readSmallFileSync(path: string, size: number, into?: Buffer): Buffer | undefined {
  const buf = into ?? Buffer.allocUnsafe(size + 1);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  let bytesRead = 0;
  try {
    // Usually one read; a short one before `size` bytes (a signal, some network filesystems) reads on.
    for (let n; bytesRead < size && (n = readSync(fd, buf, bytesRead, size + 1 - bytesRead, bytesRead)) > 0; ) bytesRead += n;
    if (size === 0) bytesRead = readSync(fd, buf, 0, 1, 0);
  } finally {
    closeSync(fd);
  }
  return bytesRead > size ? undefined : buf.subarray(0, bytesRead);
}
