/**
 * The thin sending part: undici's `request` over one keep-alive Agent per
 * registry host, with a bound on concurrent connections and the host's TLS
 * material (system CAs plus `certs.d`). A network failure (refused, reset,
 * TLS, timeout) becomes a RegistryError with status 0 and code
 * REGISTRY_UNREACHABLE, never a raw stack.
 */
import { rootCertificates } from 'node:tls';
import { Readable } from 'node:stream';
import { Agent, interceptors, request as undiciRequest, type Dispatcher } from 'undici';
import { isCanceled, throwIfAborted } from '@tsbuild/core';
import { registryError } from './errors.js';
import type { RegistryRequest, RegistryResponse, Transport } from './transport.js';
import type { TlsMaterial } from './certs.js';

export interface HttpTransportOptions {
  tls?: TlsMaterial;
  /** Concurrent connections to the host (default 8). */
  connections?: number;
  /** No response headers, or no body bytes, for this long aborts the request (default 60 s). */
  timeoutMs?: number;
}

export function httpTransport(options: HttpTransportOptions = {}): Transport & { close(): Promise<void> } {
  const tls = options.tls ?? {};
  const connect: Record<string, unknown> = {};
  if (tls.ca?.length) connect['ca'] = [...rootCertificates, ...tls.ca];
  if (tls.cert && tls.key) { connect['cert'] = tls.cert; connect['key'] = tls.key; }
  const timeout = options.timeoutMs ?? 60_000;
  const agent = new Agent({ connections: options.connections ?? 8, connect, headersTimeout: timeout, bodyTimeout: timeout });
  const dispatcher: Dispatcher = agent.compose(interceptors.redirect({ maxRedirections: 5 }));
  const send = async (req: RegistryRequest): Promise<RegistryResponse> => {
    throwIfAborted(req.signal);
    try {
      const res = await undiciRequest(req.url, {
        method: req.method,
        headers: req.headers ?? {},
        body: req.body ?? null,
        dispatcher,
        signal: req.signal ?? null,
      });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) {
        if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
      }
      return { status: res.statusCode, headers, body: res.body as unknown as Readable };
    } catch (err) {
      if (isCanceled(err) || req.signal?.aborted) throw err;
      const ctx = req.context ?? { operation: `${req.method} ${new URL(req.url).pathname}`, registry: new URL(req.url).host };
      throw registryError(ctx, 0, '', networkCause(err));
    }
  };
  return Object.assign(send, { close: () => agent.close() });
}

/** undici wraps the socket error; the innermost message is the useful one (`connect ECONNREFUSED 127.0.0.1:1`). */
function networkCause(err: unknown): Error {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e : new Error(String(err));
}
