/**
 * Turning files on disk into tar entries and bytes, shared by the packers:
 * stat → TarEntry (with hardlink detection and xattrs), and TarOutput, which
 * writes entries (header, body, padding) as a stream of chunks.
 *
 * Metadata and bodies of small files are read synchronously (see tar-walk.ts
 * for the measurements); a body larger than SMALL_FILE is streamed from the
 * file, so nothing ever holds a large file in memory, and a Readable built on
 * top pulls the chunks with backpressure.
 */
import { closeSync, constants, createReadStream, openSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { InternalError, throwIfAborted } from '@tsbuild/core';
import { encodeHeader, END_OF_ARCHIVE, splitRdev, type TarEntry } from './tar-header.js';
import { readXattrsSync } from './xattr.js';

export interface EmitOptions {
  /** Clamp mtimes to this many seconds since the epoch (SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number;
  signal?: AbortSignal;
}

/** Hardlink bookkeeping for one layer: the first path seen for each dev+ino. */
export type LinkMap = Map<string, string>;

/** Bodies up to this size are read whole, synchronously; larger ones are streamed. */
export const SMALL_FILE = 64 * 1024;
/** Output is gathered into chunks of about this size (fewer, larger writes downstream). */
const CHUNK = 128 * 1024;
/** Synchronous work between two turns of the event loop (progress output, timers, aborts). */
const TURN_MS = 8;
/**
 * Opening a small file found by lstat: never follow a symlink swapped in
 * since, and never block the thread (here: the main thread) on a FIFO swapped
 * in since (O_NONBLOCK has no effect on regular files).
 */
const SMALL_OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

export function clampMtime(stat: Stats, options: EmitOptions): number {
  const mtime = Math.floor(stat.mtimeMs / 1000);
  const epoch = options.sourceDateEpoch;
  return epoch !== undefined && mtime > epoch ? epoch : mtime;
}

/**
 * The entry describing `abs` (stat'ed with lstat) under the layer path `rel`,
 * or undefined for what a layer cannot hold (sockets). A regular file whose
 * dev+ino was already emitted in this layer becomes a `Link` to that path.
 * `knownXattrs`: the entry's layer xattrs when the caller already read them
 * (overlay-private ones left out); else they are read here.
 */
export function entryFromStat(
  abs: string, rel: string, stat: Stats, links: LinkMap, options: EmitOptions, knownXattrs?: Map<string, Buffer>,
): TarEntry | undefined {
  // Filled in place rather than spread from a base object: object spread costs
  // microseconds per entry in V8, as much as the entry's lstat.
  const entry: TarEntry = { path: rel, type: 'File', mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, size: 0, mtime: clampMtime(stat, options) };
  if (stat.isSymbolicLink()) {
    // No xattrs: fs-xattr follows symlinks, and user.* xattrs cannot exist on symlinks anyway.
    entry.type = 'SymbolicLink';
    entry.linkpath = readlinkSync(abs);
    return entry;
  }
  entry.xattrs = knownXattrs ?? readXattrsSync(abs);
  if (stat.isDirectory()) {
    entry.path = `${rel}/`;
    entry.type = 'Directory';
  } else if (stat.isFile()) {
    const first = stat.nlink > 1 ? firstLink(links, stat, rel) : undefined;
    if (first !== undefined) {
      entry.type = 'Link';
      entry.linkpath = first;
    } else entry.size = stat.size;
  } else if (stat.isFIFO()) entry.type = 'FIFO';
  else if (stat.isCharacterDevice() || stat.isBlockDevice()) {
    entry.type = stat.isCharacterDevice() ? 'CharacterDevice' : 'BlockDevice';
    const { devmajor, devminor } = splitRdev(stat.rdev);
    entry.devmajor = devmajor;
    entry.devminor = devminor;
  } else return undefined;
  return entry;
}

/** The path this layer already has for the file's dev+ino, if any; else `rel` becomes that path. */
function firstLink(links: LinkMap, stat: Stats, rel: string): string | undefined {
  const key = `${stat.dev}:${stat.ino}`;
  const first = links.get(key);
  if (first === undefined) links.set(key, rel);
  return first;
}

/**
 * Reads the first `size` bytes of the file at `abs` into `buf` at `offset`,
 * synchronously; returns how many it read (fewer if the file shrank since its
 * lstat: the caller reports that). For bodies up to SMALL_FILE.
 */
function readSmallFileInto(abs: string, size: number, buf: Buffer, offset: number): number {
  if (size === 0) return 0;
  const fd = openSync(abs, SMALL_OPEN_FLAGS);
  try {
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buf, offset + read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return read;
  } finally {
    closeSync(fd);
  }
}

/**
 * A layer tar being written: the packers add entries, and yield what each
 * call yields (`yield* out.entry(…)`). Headers and small bodies are written
 * into one chunk buffer (bodies read straight into it), handed on every
 * CHUNK bytes; a large body is streamed chunk by chunk.
 */
export class TarOutput {
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private pos = 0;
  private turnAt = performance.now() + TURN_MS;

  constructor(private readonly options: EmitOptions) {}

  /**
   * Call once per walked item (written or not): throws on abort, and every
   * TURN_MS of synchronous work gives the event loop a turn.
   */
  async pace(): Promise<void> {
    throwIfAborted(this.options.signal);
    if (performance.now() < this.turnAt) return;
    await nextTurn();
    throwIfAborted(this.options.signal);
    this.turnAt = performance.now() + TURN_MS;
  }

  /**
   * One entry: header blocks, then (for files) exactly `entry.size` bytes read
   * from `abs`, then zero padding to 512. Throws LAYER_SOURCE_CHANGED when the
   * file no longer has that many bytes.
   */
  async *entry(entry: TarEntry, abs?: string): AsyncGenerator<Buffer> {
    const size = entry.type === 'File' ? entry.size : 0;
    if (size > 0 && abs === undefined) throw new InternalError(`no source for the body of ${entry.path}`);
    const inline = size <= SMALL_FILE ? padded(size) : 0;
    const header = encodeHeader(entry);
    if (this.pos + header.length + inline > CHUNK) yield* this.flush();
    if (header.length + inline > CHUNK) yield header; // PAX records of very large xattrs
    else this.write(header);
    if (size === 0) return;
    if (inline > 0) {
      checkSize(entry, abs!, readSmallFileInto(abs!, size, this.buf, this.pos));
      this.pos += size;
    } else {
      yield* this.flush();
      checkSize(entry, abs!, yield* streamFile(abs!, size, this.options.signal));
    }
    this.zeros(padded(size) - size);
  }

  /** The end-of-archive blocks, and everything still gathered. */
  async *end(): AsyncGenerator<Buffer> {
    if (this.pos + END_OF_ARCHIVE.length > CHUNK) yield* this.flush();
    this.write(END_OF_ARCHIVE);
    yield* this.flush();
  }

  private write(b: Buffer): void {
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  private zeros(n: number): void {
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** Hands on what the chunk buffer holds (a copy: the buffer is reused). */
  private async *flush(): AsyncGenerator<Buffer> {
    if (this.pos === 0) return;
    const chunk = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    yield chunk;
  }
}

/** `size` rounded up to a multiple of 512 (a body with its padding). */
function padded(size: number): number {
  return Math.ceil(size / 512) * 512;
}

/** Yields the first `size` bytes of `abs` in 1 MiB reads; returns how many it read. */
async function* streamFile(abs: string, size: number, signal: AbortSignal | undefined): AsyncGenerator<Buffer, number> {
  const stream = createReadStream(abs, { start: 0, end: size - 1, highWaterMark: 1024 * 1024, signal });
  let read = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    read += chunk.length;
    yield chunk;
  }
  return read;
}

function checkSize(entry: TarEntry, abs: string, read: number): void {
  if (read !== entry.size) {
    throw new InternalError(`${abs} changed while packing: expected ${entry.size} bytes, read ${read}`, { code: 'LAYER_SOURCE_CHANGED' });
  }
}
