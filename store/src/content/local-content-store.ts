import { randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync } from 'node:fs';
import { open, readdir, rm, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CanceledError,
  Digester,
  DigestMismatchError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  digestAlgorithm,
  digestHex,
  formatOwner,
  isCanceled,
  isDigest,
  throwIfAborted,
  type Digest,
} from '@tsbuild/core';
import type { BlobInfo, Cancellable, ContentStore, IngestExpectation } from '../types.js';
import { fsyncDir, fsyncFile } from './atomic-file.js';

export interface LocalContentStoreOptions {
  /** Refuse ingest and delete (used for layouts opened with `openLayout`). */
  readOnly?: boolean;
}

/**
 * The content store on disk: committed blobs at `<root>/blobs/<alg>/<hex>`,
 * in-flight writes at `<root>/ingest/<unique>`. Stateless apart from paths, so
 * any number of instances and processes may share one root: every commit is a
 * rename of a fully written, fsynced, verified file.
 */
export class LocalContentStore implements ContentStore {
  readonly root: string;
  readonly readOnly: boolean;

  constructor(root: string, options: LocalContentStoreOptions = {}) {
    this.root = root;
    this.readOnly = options.readOnly ?? false;
  }

  get ingestDir(): string {
    return join(this.root, 'ingest');
  }

  blobPath(digest: Digest): string {
    if (!isDigest(digest)) throw new InvalidArgumentError(`invalid digest ${JSON.stringify(digest)}`, { code: 'INVALID_DIGEST' });
    return join(this.root, 'blobs', digestAlgorithm(digest), digestHex(digest));
  }

  async info(digest: Digest): Promise<BlobInfo> {
    try {
      const st = await stat(this.blobPath(digest));
      return { digest, size: st.size };
    } catch (err) {
      throw notFoundOr(err, digest);
    }
  }

  async reader(digest: Digest, options: Cancellable & { start?: number } = {}): Promise<Readable> {
    throwIfAborted(options.signal);
    let fh;
    try {
      fh = await open(this.blobPath(digest), 'r');
    } catch (err) {
      throw notFoundOr(err, digest);
    }
    // Opening first turns a missing blob into a typed error instead of a stream 'error' event.
    return fh.createReadStream({ start: options.start ?? 0, ...(options.signal ? { signal: options.signal } : {}) });
  }

  /**
   * Streams `source` into `ingest/`, hashing in the same pass, then commits.
   * Short-circuit: when `expected.digest` is already committed (and its size
   * matches `expected.size` if given) the source is not read — it is destroyed
   * if it is a stream — and the blob's mtime is refreshed so a concurrent
   * prune's grace window protects it until the caller references it.
   * Without an expected digest the content is always read and hashed.
   */
  async ingest(source: Readable | AsyncIterable<Uint8Array>, expected: IngestExpectation = {}, options: Cancellable = {}): Promise<BlobInfo> {
    this.assertWritable();
    const { signal } = options;
    throwIfAborted(signal);
    if (expected.digest !== undefined) {
      if (!isDigest(expected.digest)) throw new InvalidArgumentError(`invalid digest ${JSON.stringify(expected.digest)}`, { code: 'INVALID_DIGEST' });
      if (digestAlgorithm(expected.digest) !== 'sha256') {
        throw new InvalidArgumentError(`cannot ingest ${expected.digest}: only sha256 is produced`, { code: 'STORE_UNSUPPORTED_DIGEST' });
      }
      const existing = await this.info(expected.digest).catch(() => undefined);
      if (existing && (expected.size === undefined || expected.size === existing.size)) {
        if (source instanceof Readable) source.destroy();
        const now = new Date();
        await utimes(this.blobPath(expected.digest), now, now).catch(() => undefined);
        return existing;
      }
    }
    mkdirSync(this.ingestDir, { recursive: true });
    // Named for its writer (core's ProcessOwner): a dead writer's file is an orphan at once (gc/leftovers.ts).
    const tmp = join(this.ingestDir, `${formatOwner()}-${randomUUID()}`);
    const digester = new Digester();
    try {
      await pipeline(
        source,
        async function* hash(chunks: AsyncIterable<Uint8Array>) {
          for await (const chunk of chunks) {
            digester.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(tmp, { flags: 'wx', mode: 0o644 }),
        signal ? { signal } : {},
      );
      await fsyncFile(tmp);
      throwIfAborted(signal);
      const actual = digester.digest();
      if (expected.digest !== undefined && expected.digest !== actual) throw new DigestMismatchError(expected.digest, actual);
      if (expected.size !== undefined && expected.size !== digester.size) {
        throw new DigestMismatchError(`${expected.digest ?? actual} (${expected.size} bytes)`, `${actual} (${digester.size} bytes)`, { code: 'SIZE_MISMATCH' });
      }
      const dir = join(this.root, 'blobs', 'sha256');
      mkdirSync(dir, { recursive: true });
      // rename(2) replaces atomically: two writers of the same blob both succeed, one copy remains.
      renameSync(tmp, join(dir, digestHex(actual)));
      await fsyncDir(dir);
      return { digest: actual, size: digester.size };
    } catch (err) {
      await rm(tmp, { force: true });
      if (isCanceled(err) && !(err instanceof CanceledError)) throw new CanceledError('ingest canceled', { cause: err });
      throw err;
    }
  }

  async delete(digest: Digest): Promise<void> {
    this.assertWritable();
    try {
      await unlink(this.blobPath(digest));
    } catch (err) {
      throw notFoundOr(err, digest);
    }
  }

  async *walk(): AsyncIterable<BlobInfo> {
    for (const alg of ['sha256', 'sha512'] as const) {
      const dir = join(this.root, 'blobs', alg);
      const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return [] as string[];
        throw err;
      });
      for (const name of names.sort()) {
        const digest = `${alg}:${name}`;
        if (!isDigest(digest)) continue; // stray files are fsck's business, not blobs
        const st = await stat(join(dir, name)).catch(() => undefined);
        if (st?.isFile()) yield { digest, size: st.size };
      }
    }
  }

  private assertWritable(): void {
    if (this.readOnly) throw new FailedPreconditionError(`content store at ${this.root} is read-only`, { code: 'STORE_READ_ONLY' });
  }
}

function notFoundOr(err: unknown, digest: Digest): unknown {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
    return new NotFoundError(`blob ${digest} not found`, { code: 'STORE_BLOB_NOT_FOUND', cause: err });
  }
  return err;
}
