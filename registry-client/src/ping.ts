/**
 * `GET /v2/` decides how a registry is spoken to: which scheme answers and
 * which auth challenge it sets (go-containerregistry `transport/ping.go`).
 * 200 means no auth; 401 carries `WWW-Authenticate`. Schemes are tried in the
 * endpoint's order, so a loopback registry without TLS is reached over HTTP.
 */
import { RegistryError } from '@tsbuild/core';
import { parseWwwAuthenticate, type Challenge } from './challenge.js';
import { registryError } from './errors.js';
import type { Endpoint } from './endpoint.js';
import { discard, readText, type Transport } from './transport.js';

export interface PingResult {
  /** `https://host[:port]` or `http://…`: where `/v2/…` requests go. */
  base: string;
  /** The challenge to answer, or undefined when the registry needs none. */
  challenge: Challenge | undefined;
}

/**
 * `probe` (no retries) is used for every scheme but the last: a TLS
 * handshake refused by a plain-HTTP loopback registry is an answer, not a
 * fault to retry.
 */
export async function ping(transport: Transport, endpoint: Endpoint, signal?: AbortSignal, probe: Transport = transport): Promise<PingResult> {
  let lastError: unknown;
  for (const [i, scheme] of endpoint.schemes.entries()) {
    const send = i + 1 < endpoint.schemes.length ? probe : transport;
    const base = `${scheme}://${endpoint.host}`;
    const context = { operation: 'GET /v2/', registry: endpoint.registry };
    let response;
    try {
      response = await send({ method: 'GET', url: `${base}/v2/`, signal, context });
    } catch (err) {
      if (!(err instanceof RegistryError) || err.status !== 0) throw err;
      lastError = err;
      continue;
    }
    if (response.status === 401) {
      discard(response);
      const challenges = parseWwwAuthenticate(response.headers['www-authenticate'] ?? '');
      return { base, challenge: challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic') };
    }
    if (response.status >= 200 && response.status < 300) {
      discard(response);
      return { base, challenge: undefined };
    }
    const text = await readText(response);
    // A TLS-only registry answers the plain-HTTP fallback with a 400; the HTTPS failure (an unknown CA, a
    // missing client certificate) is the error that says what is wrong.
    if (lastError) throw lastError;
    throw registryError(context, response.status, text);
  }
  throw lastError;
}
