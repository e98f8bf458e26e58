/**
 * The one-concern layers a registry request passes through (go-containerregistry's
 * `pkg/v1/remote/transport` shape): a Transport takes a request and answers a
 * response; wrappers (user agent, retry, auth) take a Transport and return
 * one. Only `http-transport.ts` touches the network.
 *
 * Contract: the caller must consume or destroy `response.body`. A request whose
 * body is a stream can be sent once; Buffer and string bodies may be replayed
 * by the retry and auth layers.
 */
import type { Readable } from 'node:stream';
import type { ErrorContext } from './errors.js';

export type HttpMethod = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface RegistryRequest {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: Buffer | string | Readable;
  signal?: AbortSignal | undefined;
  /** Names the request in errors (registry, repository, digest, operation). */
  context?: ErrorContext;
}

export interface RegistryResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: Readable;
}

export type Transport = (request: RegistryRequest) => Promise<RegistryResponse>;

export function isReplayable(request: RegistryRequest): boolean {
  return request.body === undefined || typeof request.body === 'string' || Buffer.isBuffer(request.body);
}

/** Reads a (small) response body as text: error bodies, manifests, tokens. */
export async function readText(response: RegistryResponse, limit = 4 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (size > limit) { response.body.destroy(); break; }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Throws away a body that will not be read, so its connection can be reused. */
export function discard(response: RegistryResponse): void {
  response.body.resume();
  response.body.on('error', () => {});
}

/** Adds a `User-Agent` to every request. */
export function withUserAgent(next: Transport, userAgent: string): Transport {
  return (request) => next({ ...request, headers: { 'user-agent': userAgent, ...request.headers } });
}
