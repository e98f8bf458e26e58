/**
 * Downloads for the HTTP source, BuildKit's way (source/http/httpsource.go):
 * what a URL last resolved to (ETag, Last-Modified, content digest) is kept
 * in `<root>/cache/http/<sha256(url)>.json`; the next resolution sends a
 * conditional GET (`If-None-Match` / `If-Modified-Since`) and a 304 reuses
 * the recorded digest. A 200 streams the body into the content store (never
 * buffered), which hashes it and, with `--checksum`, verifies it (a mismatch
 * leaves nothing behind).
 *
 * `conditionalHeaders` is pure; `download` is the thin part that talks.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { TsbuildError, isCanceled, sha256, type Digest, type ErrorCategory } from '@tsbuild/core';
import type { ContentStore } from '@tsbuild/store';
import { fetchTrusting } from './https-ca.js';

/** What a URL resolved to the last time it was downloaded. */
export interface HttpRecord {
  url: string;
  digest: Digest;
  size: number;
  etag?: string;
  lastModified?: string;
}

/** A failed download: a non-2xx status (`status` set) or a network failure. Names the URL. */
export class HttpSourceError extends TsbuildError {
  readonly url: string;
  readonly status: number | undefined;
  constructor(category: ErrorCategory, message: string, url: string, status: number | undefined, options: { code: string; cause?: unknown }) {
    super(category, message, options);
    this.url = url;
    this.status = status;
  }
}

export function conditionalHeaders(prev: HttpRecord | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (prev?.etag) headers['if-none-match'] = prev.etag;
  if (prev?.lastModified) headers['if-modified-since'] = prev.lastModified;
  return headers;
}

function statusCategory(status: number): ErrorCategory {
  if (status === 404 || status === 410) return 'NotFound';
  if (status === 401) return 'Unauthenticated';
  if (status === 403) return 'PermissionDenied';
  if (status >= 500 || status === 429) return 'Unavailable';
  return 'FailedPrecondition';
}

export class HttpRecords {
  constructor(private readonly dir: string) {}

  private path(url: string): string {
    return join(this.dir, `${sha256(url).slice('sha256:'.length)}.json`);
  }

  async get(url: string): Promise<HttpRecord | undefined> {
    try {
      const r = JSON.parse(await readFile(this.path(url), 'utf8')) as HttpRecord;
      return r.url === url ? r : undefined;
    } catch {
      return undefined;
    }
  }

  async put(r: HttpRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = `${this.path(r.url)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, JSON.stringify(r));
    await rename(tmp, this.path(r.url));
  }
}

export interface DownloadOptions {
  url: string;
  content: ContentStore;
  records: HttpRecords;
  /** `--checksum`: the bytes must hash to it. */
  checksum?: Digest | undefined;
  /** Send a conditional request when a record exists and its blob is still in the store. */
  conditional: boolean;
  signal: AbortSignal;
}

/** Resolves a URL to a blob in the content store; `cached` when the server answered 304. */
export async function download(o: DownloadOptions): Promise<{ record: HttpRecord; cached: boolean }> {
  let prev = o.conditional ? await o.records.get(o.url) : undefined;
  if (prev && !(await hasBlob(o.content, prev.digest))) prev = undefined;
  let res: Response;
  try {
    res = await fetchTrusting(o.url, { headers: conditionalHeaders(prev), redirect: 'follow', signal: o.signal });
  } catch (err) {
    if (isCanceled(err) || o.signal.aborted) throw err;
    const reason = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    throw new HttpSourceError('Unavailable', `failed to fetch ${o.url}: ${reason}`, o.url, undefined, { code: 'HTTP_SOURCE_UNREACHABLE', cause: err });
  }
  if (res.status === 304 && prev) {
    await res.body?.cancel();
    return { record: prev, cached: true };
  }
  if (res.status < 200 || res.status > 299) {
    await res.body?.cancel();
    throw new HttpSourceError(statusCategory(res.status), `invalid response status ${res.status} ${res.statusText} for ${o.url}`, o.url, res.status, {
      code: 'HTTP_SOURCE_STATUS',
    });
  }
  const body = res.body ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>) : Readable.from([]);
  const info = await o.content.ingest(body, o.checksum ? { digest: o.checksum } : undefined, { signal: o.signal });
  const record: HttpRecord = { url: o.url, digest: info.digest, size: info.size };
  const etag = res.headers.get('etag');
  const lastModified = res.headers.get('last-modified');
  if (etag) record.etag = etag;
  if (lastModified) record.lastModified = lastModified;
  await o.records.put(record);
  return { record, cached: false };
}

async function hasBlob(content: ContentStore, digest: Digest): Promise<boolean> {
  try {
    await content.info(digest);
    return true;
  } catch {
    return false;
  }
}
