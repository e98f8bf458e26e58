/**
 * ADD's local archive handling: detection by content (never by name) and a
 * streaming decompressor per format.
 * gzip uses zlib and zstd uses zstd-napi in-process; bzip2 and xz spawn the
 * `bzip2 -dc` / `xz -dc` CLIs (Debian packages bzip2 and xz-utils).
 *
 * What is an archive is BuildKit's rule (solver/llbsolver/file/unpack.go
 * isArchivePath): a regular file that, once decompressed by its magic number
 * (go-archive compression.DecompressStream: gzip, bzip2, xz, zstd, or none),
 * starts with a tar header Go's archive/tar Reader.Next accepts. Anything
 * else — a gzip'd text, an empty or all-zero tar, a text named `.tar`, a
 * compressed stream that fails to decode — is no archive, and ADD copies it
 * as a plain file. Next's checks of the first header are redone here: a
 * full 512-byte block, not all zeros, a checksum that matches the unsigned
 * or the signed byte sum, numeric fields that parse, a size not negative;
 * the magic is not required (a V7 header is a tar too). Unlike Next, a PAX
 * or GNU long-name header is not followed to the entry it describes.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { UnavailableError } from '@tsbuild/core';
import { createDecompressStream } from '@tsbuild/store';

export type ArchiveKind = 'tar' | 'gzip' | 'bzip2' | 'xz' | 'zstd';

const BLOCK = 512;

/** The archive kind of the regular file at `path`, or undefined when it is not one ADD extracts (see above). */
export async function detectArchive(path: string, signal?: AbortSignal): Promise<ArchiveKind | undefined> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  const head = Buffer.alloc(BLOCK);
  let length: number;
  try {
    ({ bytesRead: length } = await handle.read(head, 0, BLOCK, 0));
  } finally {
    await handle.close();
  }
  const compression = compressionOf(head.subarray(0, length));
  if (!compression) return isTarHeader(head.subarray(0, length)) ? 'tar' : undefined;
  const plain = await readHead(await openTarStream(path, compression, signal), BLOCK);
  return plain && isTarHeader(plain) ? compression : undefined;
}

/**
 * Sniffing over a file's first bytes (512 for an uncompressed tar): the
 * compression its magic number names, else `tar` when the bytes start with
 * a valid tar header. A compressed kind says nothing of what it holds:
 * detectArchive decompresses to check.
 */
export function kindOf(head: Uint8Array): ArchiveKind | undefined {
  return compressionOf(head) ?? (isTarHeader(head) ? 'tar' : undefined);
}

function compressionOf(head: Uint8Array): Exclude<ArchiveKind, 'tar'> | undefined {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  if (b.length >= 3 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 0x08) return 'gzip';
  if (b.length >= 3 && b.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (b.length >= 6 && b.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  // zstd: a Zstandard frame, or a skippable frame (magic 0x184D2A50–5F) before one (go-archive compression.Detect).
  if (b.length >= 4 && (b.readUInt32LE(0) === 0xfd2fb528 || (b.readUInt32LE(0) & 0xfffffff0) >>> 0 === 0x184d2a50)) return 'zstd';
  return undefined;
}

/**
 * Whether `head` starts with a tar header archive/tar's Reader.Next accepts
 * (readHeader, getFormat, parser.parseNumeric): see the module comment.
 */
function isTarHeader(head: Uint8Array): boolean {
  if (head.length < BLOCK) return false;
  const b = Buffer.from(head.buffer, head.byteOffset, BLOCK);
  if (b.every((x) => x === 0)) return false; // end of archive (or a zero block then junk): io.EOF / ErrHeader
  const stored = parseNumeric(b.subarray(148, 156));
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const x = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += x;
    signed += x < 0x80 ? x : x - 0x100;
  }
  if (stored === undefined || (stored !== unsigned && stored !== signed)) return false;
  // mode, uid, gid, size, mtime
  for (const [at, len] of [[100, 8], [108, 8], [116, 8], [124, 12], [136, 12]] as const) {
    if (parseNumeric(b.subarray(at, at + len)) === undefined) return false;
  }
  const size = parseNumeric(b.subarray(124, 136))!;
  if (size < 0) return false;
  // USTAR, PAX and GNU headers (any magic but V7's none) have device numbers that must parse too.
  if (b.subarray(257, 262).toString('latin1') === 'ustar') {
    for (const at of [329, 337]) if (parseNumeric(b.subarray(at, at + 8)) === undefined) return false;
  }
  return true;
}

/** archive/tar's parseNumeric: base-256 when the top bit is set, else octal padded with spaces and NULs; undefined where Go sets ErrHeader. */
function parseNumeric(field: Buffer): number | undefined {
  if (field.length > 0 && (field[0]! & 0x80) !== 0) {
    // Base-256, two's complement; only the values Go can hold in an int64 are valid.
    const negative = (field[0]! & 0x40) !== 0;
    let value = 0n;
    for (let i = 0; i < field.length; i++) {
      let byte = BigInt(field[i]! ^ (negative ? 0xff : 0));
      if (i === 0) byte &= 0x7fn;
      value = (value << 8n) | byte;
    }
    if (value >= 1n << 63n) return undefined;
    return Number(negative ? -value - 1n : value);
  }
  let s = field.toString('latin1').replace(/^[ \0]+|[ \0]+$/g, '');
  if (s === '') return 0;
  s = s.split('\0')[0]!;
  if (!/^[0-7]+$/.test(s) || BigInt(`0o${s}`) >= 1n << 64n) return undefined;
  return Number(BigInt(`0o${s}`));
}

/**
 * The first `n` bytes of `stream` (fewer when it ends sooner); undefined when
 * it fails to decode. A missing bzip2/xz CLI is an error, not a "no archive".
 * The stream is destroyed.
 */
async function readHead(stream: Readable, n: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total >= n) break;
    }
    return Buffer.concat(chunks).subarray(0, n);
  } catch (err) {
    if ((err as { code?: string }).code === 'FILEOPS_DECOMPRESSOR_MISSING') throw err;
    return undefined; // a stream that does not decode is no archive
  } finally {
    stream.destroy();
  }
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
  // A reader that stops early (detectArchive reads one block) closes `out`: the CLI is not needed any more.
  out.on('close', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
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
