/**
 * HTTP source (`ADD <url>`): one file, `/<filename>`, mode 0600, mtime from
 * `Last-Modified` when the server sends one (BuildKit's httpsource).
 *
 * The key is resolved at solve time, as BuildKit does: with `--checksum` it
 * is the checksum (nothing is downloaded to compute it); otherwise the URL is
 * fetched (conditionally, see http-fetch.ts) and the content digest enters
 * the key, so an unchanged file hits and a changed one rebuilds (explained as
 * a content change of the URL). The bytes land in the content store during
 * `cacheMap`; `exec` only writes them into a snapshot. The blob stays in the
 * result's `blobs`, so the cache record keeps it for the next conditional GET.
 */
import { open, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DockerfileError, isCanceled, TsbuildError, type Digest, type SourceRange } from '@tsbuild/core';
import type { HttpSourceSpec } from '../definition/ops.js';
import type { CacheMap, CacheMapContext, ExecContext, Op } from '../solver/index.js';
import { download, HttpRecords, type HttpRecord } from './http-fetch.js';
import { sourceSnapshot } from './source-snapshot.js';
import type { LayerResult } from './types.js';
import type { Worker } from './worker.js';

export interface SourceEnv {
  file: string;
  range: SourceRange;
}

/** BuildKit's default permission of a downloaded file. */
export const HTTP_FILE_MODE = 0o600;

export class HttpSourceOp implements Op<LayerResult> {
  private resolved: Promise<HttpRecord> | undefined;
  private readonly records: HttpRecords;

  constructor(
    private readonly w: Worker,
    readonly spec: HttpSourceSpec,
    private readonly env: SourceEnv,
  ) {
    this.records = new HttpRecords(join(w.store.root, 'cache', 'http'));
  }

  async cacheMap(ctx: CacheMapContext): Promise<CacheMap> {
    const { url, filename, checksum } = this.spec;
    const definition = { source: 'http', url, filename, mode: HTTP_FILE_MODE };
    if (checksum) return { definition: { ...definition, checksum } };
    const record = await this.resolve(ctx.signal, true);
    const lastModified = record.lastModified === undefined ? {} : { lastModified: record.lastModified };
    return { definition: { ...definition, ...lastModified }, content: { [url]: record.digest } };
  }

  async exec(_inputs: unknown[], ctx: ExecContext): Promise<LayerResult> {
    const record = await this.resolve(ctx.signal, false);
    await this.w.hold({ blobs: [record.digest] });
    const result = await sourceSnapshot(this.w, 'http', ctx, async (root) => {
      const target = join(root, this.spec.filename);
      const out = await open(target, 'wx', HTTP_FILE_MODE);
      await pipeline(await this.w.store.content.reader(record.digest, { signal: ctx.signal }), out.createWriteStream(), { signal: ctx.signal });
      await out.close().catch(() => undefined);
      const mtime = record.lastModified === undefined ? Number.NaN : Date.parse(record.lastModified);
      if (!Number.isNaN(mtime)) await utimes(target, new Date(mtime), new Date(mtime));
    });
    return { ...result, blobs: [...result.blobs, record.digest] };
  }

  /**
   * The download, once per build: started by `cacheMap` (conditional) or, with
   * `--checksum`, by `exec` (reusing the blob when the last download of this
   * URL had that digest and it is still in the store).
   */
  private resolve(signal: AbortSignal, conditional: boolean): Promise<HttpRecord> {
    this.resolved ??= this.located(async () => {
      const { url, checksum } = this.spec;
      if (checksum) {
        const prev = await this.records.get(url);
        if (prev?.digest === checksum && (await exists(this.w, checksum))) return prev;
      }
      return (await download({ url, content: this.w.store.content, records: this.records, checksum, conditional, signal })).record;
    });
    return this.resolved;
  }

  private async located<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isCanceled(err) || !(err instanceof TsbuildError)) throw err;
      const message = err.code === 'DIGEST_MISMATCH' ? `checksum mismatch for ${this.spec.url}: ${err.message}` : err.message;
      throw new DockerfileError(message, this.env.file, this.env.range, { code: err.code, cause: err });
    }
  }
}

async function exists(w: Worker, digest: Digest): Promise<boolean> {
  return w.store.content.info(digest).then(() => true, () => false);
}
