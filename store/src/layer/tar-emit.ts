/**
 * Turning files on disk into tar entries and bytes, shared by the packers:
 * stat → TarEntry (with hardlink detection and xattrs), and the byte chunks of
 * one entry (header, body streamed from the file, padding). Nothing buffers a
 * file: bodies are yielded chunk by chunk, so a Readable built on top pulls
 * them with backpressure.
 */
import { createReadStream, type Stats } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { InternalError, throwIfAborted } from '@tsbuild/core';
import { encodeHeader, splitRdev, type TarEntry } from './tar-header.js';
import { readXattrs } from './xattr.js';

export interface EmitOptions {
  /** Clamp mtimes to this many seconds since the epoch (SOURCE_DATE_EPOCH). */
  sourceDateEpoch?: number;
  signal?: AbortSignal;
}

/** Hardlink bookkeeping for one layer: the first path seen for each dev+ino. */
export type LinkMap = Map<string, string>;

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
export async function entryFromStat(
  abs: string, rel: string, stat: Stats, links: LinkMap, options: EmitOptions, knownXattrs?: Map<string, Buffer>,
): Promise<TarEntry | undefined> {
  const base = { mode: stat.mode & 0o7777, uid: stat.uid, gid: stat.gid, size: 0, mtime: clampMtime(stat, options) };
  if (stat.isSymbolicLink()) {
    // No xattrs: fs-xattr follows symlinks, and user.* xattrs cannot exist on symlinks anyway.
    return { ...base, path: rel, type: 'SymbolicLink', linkpath: await readlink(abs) };
  }
  const xattrs = knownXattrs ?? (await readXattrs(abs));
  if (stat.isDirectory()) return { ...base, path: `${rel}/`, type: 'Directory', xattrs };
  if (stat.isFile()) {
    if (stat.nlink > 1) {
      const key = `${stat.dev}:${stat.ino}`;
      const first = links.get(key);
      if (first !== undefined) return { ...base, path: rel, type: 'Link', linkpath: first, xattrs };
      links.set(key, rel);
    }
    return { ...base, path: rel, type: 'File', size: stat.size, xattrs };
  }
  if (stat.isFIFO()) return { ...base, path: rel, type: 'FIFO', xattrs };
  if (stat.isCharacterDevice()) return { ...base, path: rel, type: 'CharacterDevice', ...splitRdev(stat.rdev), xattrs };
  if (stat.isBlockDevice()) return { ...base, path: rel, type: 'BlockDevice', ...splitRdev(stat.rdev), xattrs };
  return undefined;
}

/**
 * The bytes of one entry: header blocks, then (for files) exactly
 * `entry.size` bytes — `body` when the caller read them ahead (tar-prefetch),
 * else streamed from `abs` — then zero padding to 512.
 */
export async function* entryChunks(entry: TarEntry, abs: string | undefined, options: EmitOptions, body?: Buffer): AsyncGenerator<Buffer> {
  throwIfAborted(options.signal);
  yield encodeHeader(entry);
  if (entry.type !== 'File' || entry.size === 0) return;
  if (abs === undefined && body === undefined) throw new InternalError(`no source for the body of ${entry.path}`);
  let written = 0;
  if (body !== undefined) {
    written = body.length;
    yield body;
  } else {
    // 1 MiB reads: a large file costs fewer round trips and fewer, larger chunks downstream.
    const stream = createReadStream(abs!, { start: 0, end: entry.size - 1, highWaterMark: 1024 * 1024, signal: options.signal });
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      written += chunk.length;
      yield chunk;
    }
  }
  if (written !== entry.size) {
    throw new InternalError(`${abs ?? entry.path} changed while packing: expected ${entry.size} bytes, read ${written}`, { code: 'LAYER_SOURCE_CHANGED' });
  }
  const rem = entry.size % 512;
  if (rem !== 0) yield Buffer.alloc(512 - rem);
}
