/**
 * ADD's local archive handling: detection by content (never by name, like
 * BuildKit/Docker) and a streaming decompressor per format.
 * gzip uses zlib and zstd uses zstd-napi in-process; bzip2 and xz spawn the
 * `bzip2 -dc` / `xz -dc` CLIs (Debian packages bzip2 and xz-utils).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { UnavailableError } from '@tsbuild/core';
import { createDecompressStream } from '@tsbuild/store';

export type ArchiveKind = 'tar' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

/** The archive kind of the regular file at `path`, or undefined when it is not one ADD extracts. */
export async function detectArchive(path: string): Promise<ArchiveKind | undefined> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  const head = Buffer.alloc(512);
  let length: number;
  try {
    ({ bytesRead: length } = await handle.read(head, 0, 512, 0));
  } finally {
    await handle.close();
  }
  return kindOf(head.subarray(0, length));
}

/** Pure magic-number sniffing over the first bytes (≥ 512 for plain tar). */
export function kindOf(head: Uint8Array): ArchiveKind | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 3 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 0x08) return 'gzip';
  if (b.length >= 3 && b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (b.length >= 262 && b.subarray(257, 262).toString('latin1') === 'ustar' && validTarChecksum(b)) return 'tar';
  return undefined;
}

/** Header checksum: the sum of the 512 bytes with the checksum field read as spaces. */
function validTarChecksum(b: Buffer): boolean {
  if (b.length < 512) return false;
  const stored = parseInt(b.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : b[i]!;
  return stored === sum;
}

/** The uncompressed tar stream of the archive at `path`. Errors (including a failing CLI) surface on the stream. */
export async function openTarStream(path: string, kind: ArchiveKind, signal?: AbortSignal): Promise<Readable> {
  if (kind === 'bzip2' || kind === 'xz') return spawnDecompressor(kind, path, signal);
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  const file = handle.createReadStream(signal ? { signal } : {});
  if (kind === 'tar') return file;
  const decoder = createDecompressStream(kind);
  file.on('error', (err) => decoder.destroy(err));
  // pipe() does not close its source when the destination is closed early (a refused entry): do it here.
  decoder.once('close', () => file.destroy());
  return file.pipe(decoder);
}

function spawnDecompressor(kind: 'bzip2' | 'xz', path: string, signal: AbortSignal | undefined): Readable {
  const out = new PassThrough();
  const child = spawn(kind, ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  child.stdout.pipe(out, { end: false });
  child.on('error', (err) =>
    out.destroy(
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? new UnavailableError(`${kind} is not installed (needed to extract ${path})`, { code: 'FILEOPS_DECOMPRESSOR_MISSING', cause: err })
        : err,
    ),
  );
  child.on('close', (code) => {
    if (code === 0) out.end();
    else out.destroy(new UnavailableError(`${kind} -dc failed (exit ${code}): ${stderr.trim()}`, { code: 'FILEOPS_DECOMPRESS_FAILED' }));
  });
  return out;
}
