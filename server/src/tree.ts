/**
 * File trees on the wire: what a client lists of its context (path and stat,
 * after .dockerignore), and the receiving side that writes entries under a
 * root it never leaves. Shared by both directions: contexts go up
 * (context-sync.ts), `--output type=local` trees come back down (client.ts).
 *
 * The receiver trusts nothing: a path is relative, clean (no `.`/`..`/empty
 * component), and every parent it writes through is a directory it lstat()ed
 * — never a symlink — and files are opened O_NOFOLLOW|O_EXCL after the old
 * entry is removed. Symlinks are created as given: they are data, read later
 * by the builder, which resolves them inside the context (resolveInRoot).
 */
import { constants, createReadStream, type Stats } from 'node:fs';
import { lchown, lstat, lutimes, mkdir, open, readdir, readFile, readlink, rm, symlink, utimes } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Writable } from 'node:stream';
import { PathEscapesRootError } from '@tsbuild/core';
import { createMatcher, readDockerignore, selectIgnoreFile, walkContext } from '@tsbuild/dockerfile';
import { type ByteReader, END_FRAME, jsonFrame, ProtocolError, writeChunk } from './wire.js';

export type EntryType = 'file' | 'dir' | 'symlink';

export interface TreeEntry {
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  /** A symlink's target. */
  target?: string;
}

export const MAX_PATH_BYTES = 4096;

/**
 * The context as its client sends it: every entry that the ignore file keeps
 * (dockerfile's walkContext, fsutil's filtered walk), parents before
 * children. The ignore file itself is always listed: the server's build
 * reads it again. Special files (sockets, FIFOs, devices) are left out.
 */
export async function listContext(dir: string, dockerfile: string): Promise<TreeEntry[]> {
  const choice = await selectIgnoreFile(dir, dockerfile);
  const matcher = choice ? createMatcher(readDockerignore(await readFile(choice.path, 'utf8'))) : undefined;
  const out: TreeEntry[] = [];
  for await (const { path, stat } of walkContext(dir, matcher)) {
    const e = await treeEntry(dir, path, stat);
    if (e) out.push(e);
  }
  const ignoreRel = choice ? relative(dir, choice.path) : undefined;
  if (ignoreRel && !ignoreRel.startsWith('..') && !out.some((e) => e.path === ignoreRel)) {
    out.push(entryOf(ignoreRel, await lstat(choice!.path), 'file'));
  }
  return out;
}

async function treeEntry(dir: string, path: string, st: Stats): Promise<TreeEntry | undefined> {
  if (st.isDirectory()) return entryOf(path, st, 'dir');
  if (st.isFile()) return entryOf(path, st, 'file');
  if (st.isSymbolicLink()) return { ...entryOf(path, st, 'symlink'), target: await readlink(join(dir, path)) };
  return undefined;
}

/** Every entry of a tree (an exported root filesystem), nothing filtered. */
export async function walkTree(dir: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const visit = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(dir, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(dir, path));
      const e = await treeEntry(dir, path, st);
      if (e) out.push(e);
      if (st.isDirectory()) await visit(path);
    }
  };
  await visit('');
  return out;
}

function entryOf(path: string, st: Stats, type: EntryType): TreeEntry {
  return { path, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: type === 'file' ? st.size : 0, mtimeMs: Math.trunc(st.mtimeMs) };
}

/** A TreeEntry from the wire, checked: anything else is a ProtocolError. */
export function checkEntry(raw: unknown): TreeEntry {
  const e = raw as Partial<TreeEntry> | null;
  if (typeof e !== 'object' || e === null) throw new ProtocolError('entry: not an object');
  if (typeof e.path !== 'string') throw new ProtocolError('entry: path is not a string');
  checkPath(e.path);
  if (e.type !== 'file' && e.type !== 'dir' && e.type !== 'symlink') throw new ProtocolError(`entry ${e.path}: bad type`);
  for (const k of ['mode', 'uid', 'gid', 'size', 'mtimeMs'] as const) {
    if (!Number.isSafeInteger(e[k]) || (e[k] as number) < 0) throw new ProtocolError(`entry ${e.path}: bad ${k}`);
  }
  if (e.type === 'symlink' && (typeof e.target !== 'string' || e.target.length === 0 || e.target.length > MAX_PATH_BYTES || e.target.includes('\0'))) {
    throw new ProtocolError(`entry ${e.path}: bad symlink target`);
  }
  return { path: e.path, type: e.type, mode: e.mode! & 0o7777, uid: e.uid!, gid: e.gid!, size: e.type === 'file' ? e.size! : 0, mtimeMs: e.mtimeMs!, ...(e.type === 'symlink' ? { target: e.target! } : {}) };
}

/** Relative, clean, bounded: the only paths a receiver writes. */
export function checkPath(path: string): void {
  const bad = path.length === 0 || Buffer.byteLength(path) > MAX_PATH_BYTES || path.includes('\0') || path.startsWith('/')
    || path.split('/').some((c) => c === '' || c === '.' || c === '..');
  if (bad) throw new PathEscapesRootError(`path ${JSON.stringify(path.slice(0, 200))} is not a clean relative path`);
}

/**
 * Makes the parents of `path` under `root` as directories, refusing any that
 * exists as something else (a symlink there could lead outside the root).
 * `known` holds directories already checked in this transfer (a symlink made
 * since removes its path from it: writeMetaEntry).
 */
async function parentDir(root: string, path: string, known?: Set<string>): Promise<string> {
  const parts = path.split('/');
  let at = root;
  for (const part of parts.slice(0, -1)) {
    at = join(at, part);
    if (known?.has(at)) continue;
    const st = await lstat(at).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!st) await mkdir(at, { mode: 0o755 });
    else if (!st.isDirectory()) throw new PathEscapesRootError(`path ${JSON.stringify(path)}: ${JSON.stringify(part)} is not a directory`);
    known?.add(at);
  }
  return join(root, path);
}

/** Removes whatever `path` names (not following a symlink there); a missing entry is fine. */
export async function removeEntry(root: string, path: string): Promise<void> {
  checkPath(path);
  const target = await parentDir(root, path);
  await rm(target, { recursive: true, force: true });
}

/** Creates a directory or symlink entry (files come with content: writeFileEntry). */
export async function writeMetaEntry(root: string, e: TreeEntry, known?: Set<string>): Promise<void> {
  const target = await parentDir(root, e.path, known);
  const st = await lstat(target).catch(() => undefined);
  if (e.type === 'dir') {
    if (st && !st.isDirectory()) await rm(target, { force: true });
    if (!st?.isDirectory()) await mkdir(target, { mode: 0o700 });
    // chmod through a handle opened O_NOFOLLOW|O_DIRECTORY: never a symlink's target.
    const fh = await open(target, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_DIRECTORY);
    try {
      await fh.chmod(e.mode);
      if (isRoot) await fh.chown(e.uid, e.gid);
    } finally {
      await fh.close();
    }
  } else if (e.type === 'symlink') {
    for (const dir of known ?? []) if (dir === target || dir.startsWith(`${target}/`)) known!.delete(dir);
    if (st) await rm(target, { recursive: true, force: true });
    await symlink(e.target!, target);
    if (isRoot) await lchown(target, e.uid, e.gid);
    await lutimes(target, e.mtimeMs / 1000, e.mtimeMs / 1000);
  }
}

/** Writes a file entry's content from `content` (exactly e.size bytes); returns the bytes written. */
export async function writeFileEntry(root: string, e: TreeEntry, content: AsyncIterable<Buffer>, known?: Set<string>): Promise<number> {
  const target = await parentDir(root, e.path, known);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  // Exclusive create; whatever is in the way (an older file, a symlink, a directory) is removed first, never opened.
  const fh = await open(target, flags, 0o600).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
    await rm(target, { recursive: true, force: true });
    return open(target, flags, 0o600);
  });
  let n = 0;
  try {
    for await (const chunk of content) {
      await fh.write(chunk);
      n += chunk.length;
    }
    await fh.chmod(e.mode);
    if (isRoot) await fh.chown(e.uid, e.gid);
    await fh.utimes(e.mtimeMs / 1000, e.mtimeMs / 1000);
  } finally {
    await fh.close();
  }
  return n;
}

/** Restores directory mtimes after their contents were written (children first). */
export async function settleDirTimes(root: string, entries: readonly TreeEntry[]): Promise<void> {
  for (const e of [...entries].reverse()) {
    if (e.type === 'dir') await utimes(join(root, e.path), e.mtimeMs / 1000, e.mtimeMs / 1000).catch(() => undefined);
  }
}

/**
 * Sends entries of `dir` as frames, each file's bytes after its frame, then
 * the end frame; returns the file bytes sent. A file that shrank since it was
 * listed is padded to the size promised (the next sync sees the change).
 */
export async function sendEntries(dir: string, entries: readonly TreeEntry[], out: Writable): Promise<number> {
  let bytes = 0;
  for (const e of entries) {
    await writeChunk(out, jsonFrame(e));
    if (e.type !== 'file' || e.size === 0) continue;
    let sent = 0;
    // A small file in one read (most of a context: a stream per file costs more than the file); a big one streamed.
    const chunks = e.size <= SMALL_FILE ? [await readHead(join(dir, e.path), e.size)] : createReadStream(join(dir, e.path), { end: e.size - 1 }) as AsyncIterable<Buffer>;
    for await (const chunk of chunks) {
      await writeChunk(out, chunk);
      sent += chunk.length;
    }
    if (sent < e.size) await writeChunk(out, Buffer.alloc(e.size - sent));
    bytes += e.size;
  }
  await writeChunk(out, END_FRAME);
  return bytes;
}

const SMALL_FILE = 256 * 1024;

/** Up to `size` bytes from the start of a file. */
async function readHead(path: string, size: number): Promise<Buffer> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(size);
    let got = 0;
    for (let n = -1; n !== 0 && got < size; got += n) n = (await fh.read(buf, got, size - got, got)).bytesRead;
    return buf.subarray(0, got);
  } finally {
    await fh.close();
  }
}

/**
 * Receives entries sent by sendEntries into `root` (which must exist), up to
 * the end frame. `check` sees each entry before anything is written and
 * throws to refuse it.
 */
export async function receiveEntries(reader: ByteReader, root: string, options: { frame: number; check?: (e: TreeEntry) => void }): Promise<{ entries: TreeEntry[]; bytes: number }> {
  const entries: TreeEntry[] = [];
  const known = new Set<string>();
  let bytes = 0;
  for (;;) {
    const raw = await reader.frame(options.frame, 'entries');
    if (raw === undefined) break;
    const e = checkEntry(raw);
    options.check?.(e);
    entries.push(e);
    if (e.type === 'file') bytes += await writeFileEntry(root, e, reader.bytes(e.size, e.path), known);
    else await writeMetaEntry(root, e, known);
  }
  await settleDirTimes(root, entries);
  return { entries, bytes };
}

const isRoot = process.getuid?.() === 0;
