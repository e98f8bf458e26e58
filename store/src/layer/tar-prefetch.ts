/**
 * Read-ahead for the packers: while one entry's header and body are being
 * written, the next entries' xattrs and small file bodies are already being
 * read on the thread pool. A layer of many small files otherwise costs
 * several thread-pool round trips per file, one after another, with the main
 * thread idle in between.
 *
 * Order and content are unchanged: items come out in walk order, each with
 * what the emitter would have read itself (all xattrs, and the first
 * `stat.size` bytes of the file). Memory is bounded: at most WINDOW items are
 * prepared ahead, each holding at most SMALL_FILE bytes of body.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { walkTree, type WalkItem } from './tar-walk.js';
import { readAllXattrs } from './xattr.js';

export interface PreparedItem extends WalkItem {
  /**
   * All xattrs, overlay-private ones included (readAllXattrs). Empty for
   * symlinks (fs-xattr would follow them; see tar-emit) and for items the
   * caller marked bare.
   */
  xattrs: Map<string, Buffer>;
  /** The content of a regular file of at most SMALL_FILE bytes, read ahead; undefined: stream it when its turn comes. */
  body?: Buffer | undefined;
}

/** Files up to this size are read whole ahead of time; larger ones are streamed. */
export const SMALL_FILE = 64 * 1024;
/** Items prepared ahead of the one being written (so at most 2 MiB of bodies). */
const WINDOW = 32;

/**
 * walkTree's items, prepared ahead. `bare(item)` true: nothing is read for it
 * (an overlay whiteout device, which has neither xattrs nor a body).
 */
export function preparedWalk(root: string, options: { signal?: AbortSignal }, bare?: (item: WalkItem) => boolean): AsyncGenerator<PreparedItem> {
  return readAhead(walkTree(root, options), (item) => prepare(item, bare?.(item) ?? false), WINDOW);
}

async function prepare(item: WalkItem, bare: boolean): Promise<PreparedItem> {
  if (bare || item.stat.isSymbolicLink()) return { ...item, xattrs: new Map() };
  const small = item.stat.isFile() && item.stat.size <= SMALL_FILE;
  const [xattrs, body] = await Promise.all([readAllXattrs(item.abs), small ? readSmall(item.abs, item.stat.size) : undefined]);
  return { ...item, xattrs, body };
}

/** The first `size` bytes of a file (fewer if it shrank since its lstat: the emitter reports that). */
async function readSmall(abs: string, size: number): Promise<Buffer> {
  if (size === 0) return Buffer.alloc(0);
  const handle = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await handle.read(buf, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return off === size ? buf : buf.subarray(0, off);
  } finally {
    await handle.close();
  }
}

/**
 * `prepare(x)` for each `x` of `source`, yielded in source order, with up to
 * `window` preparations running ahead of the consumer. A failed preparation
 * is thrown when its turn comes (never as an unhandled rejection before).
 */
export async function* readAhead<T, U>(source: AsyncIterable<T>, prepare: (item: T) => Promise<U>, window: number): AsyncGenerator<U> {
  const it = source[Symbol.asyncIterator]();
  const queue: Promise<U>[] = [];
  let done = false;
  try {
    for (;;) {
      while (!done && queue.length < window) {
        const next = await it.next();
        if (next.done) done = true;
        else {
          const prepared = prepare(next.value);
          prepared.catch(() => {}); // observed when it reaches the head of the queue
          queue.push(prepared);
        }
      }
      const head = queue.shift();
      if (head === undefined) return;
      yield await head;
    }
  } finally {
    if (!done) await it.return?.(undefined);
  }
}
