/**
 * Streaming extraction of a tar into an in-image directory for ADD, with
 * node-tar's Parser (never its Unpack: every write goes through DestWriter).
 *
 * Safety (Docker's archive.Untar "breakout" rule, node-tar's advisories):
 * a leading `/` is dropped (entries are relative to dest); an entry name or
 * hard-link target whose `..` would leave dest fails the whole extraction
 * with PathEscapesRootError; symlinks are created as given (their targets
 * are text) but any later entry *through* them is resolved in-root, so it
 * cannot land outside the destination root. Devices and FIFOs are skipped.
 *
 * Over existing entries, go-archive's Unpack rules (BuildKit's unpack.go
 * calls chrootarchive.Untar): a directory entry onto a directory merges (its
 * metadata applied), onto anything else (a symlink included) replaces it
 * with a directory; any other entry replaces what is there, a directory
 * with its contents too (the writer is made with `replaceDirs`). Parents
 * an entry names but the archive does not list are followed as they are.
 */
import { Parser, type ReadEntry } from 'tar';
import { posix } from 'node:path';
import { once, type EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { throwIfAborted } from '@tsbuild/core';
import type { DestWriter, Owner } from './dest-writer.js';
import { resolveInRoot, isInside } from '@tsbuild/core';
import { PathEscapesRootError } from './errors.js';

export interface ExtractOptions {
  writer: DestWriter;
  /** In-image directory to extract into. */
  destDir: string;
  /** Overrides the archive's owners when given. */
  chown?: Owner | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Extracts the plain tar stream; resolves to the number of entries written.
 * The first failure (a stream error, a parse error, an entry that cannot be
 * written) stops the feed, closes `tar` and is what rejects. The feed is a loop,
 * not stream.pipeline: node-tar's Parser never emits 'close', so a pipeline
 * whose source was closed early (an entry refused while gunzip still held the
 * rest of the archive) never called back — issue 13's silent exit 13.
 */
export async function extractTar(tar: Readable, options: ExtractOptions): Promise<number> {
  const parser = new Parser({ strict: true });
  const stop = new AbortController();
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  const fail = (err: unknown) => {
    failure ??= err;
    stop.abort();
  };
  let written = 0;
  parser.on('error', fail);
  parser.on('entry', (entry: ReadEntry) => {
    chain = chain.then(async () => {
      if (failure) return void entry.resume();
      try {
        if (await writeEntry(entry, options)) written++;
      } catch (err) {
        fail(err);
        entry.resume();
      }
    });
  });
  try {
    // Leaving the loop early (break or throw) destroys `tar`: a decompressor is closed with it.
    for await (const chunk of tar) {
      if (failure) break;
      if (!parser.write(chunk as Buffer)) await untilEvent(parser, 'drain', stop.signal);
      if (failure) break;
    }
    if (!failure) {
      const ended = untilEvent(parser, 'end', stop.signal); // end() may emit 'end' at once
      parser.end();
      await ended;
    }
  } catch (err) {
    fail(err);
  }
  await chain;
  if (failure) throw failure;
  return written;
}

/** Resolves on `event`, or as soon as `stop` aborts (the caller then reads its failure). */
async function untilEvent(emitter: EventEmitter, event: string, stop: AbortSignal): Promise<void> {
  await once(emitter, event, { signal: stop }).catch((err: unknown) => {
    if (!stop.aborted) throw err;
  });
}

async function writeEntry(entry: ReadEntry, options: ExtractOptions): Promise<boolean> {
  throwIfAborted(options.signal);
  const name = entry.path.replace(/^\/+/, '');
  if (!isInside(name)) throw new PathEscapesRootError(`archive entry ${JSON.stringify(entry.path)} would be written outside the destination`);
  const inImage = posix.join(options.destDir, name);
  const meta = {
    mode: (entry.mode ?? 0o644) & 0o7777,
    uid: options.chown?.uid ?? entry.uid ?? 0,
    gid: options.chown?.gid ?? entry.gid ?? 0,
    mtime: entry.mtime,
  };
  const w = options.writer;
  switch (entry.type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
      await w.writeFile(inImage, entry as unknown as Readable, meta);
      return true;
    case 'Directory':
      entry.resume();
      await w.ensureDir(inImage, { ...meta, mode: (entry.mode ?? 0o755) & 0o7777 }, 'replace');
      return true;
    case 'SymbolicLink':
      entry.resume();
      await w.writeSymlink(inImage, entry.linkpath ?? '', meta);
      return true;
    case 'Link': {
      entry.resume();
      const target = (entry.linkpath ?? '').replace(/^\/+/, '');
      if (!isInside(target)) throw new PathEscapesRootError(`archive hard link ${JSON.stringify(entry.path)} points outside the destination`);
      const existing = await resolveInRoot(w.root, posix.join(options.destDir, target));
      await w.writeHardlink(inImage, existing);
      return true;
    }
    default:
      entry.resume();
      return false;
  }
}
