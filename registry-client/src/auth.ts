/**
 * The auth layer. An Authorizer answers "which Authorization header for
 * this registry, challenge and scopes": Basic from the credentials, or a
 * Bearer token fetched through the token flow and cached per
 * (registry, realm, service, scopes) until it expires. `withAuth` wraps a
 * Transport: it sends with that header and, on a 401 whose challenge asks
 * for more (another scope, a fresh token), fetches a new token and sends a
 * replayable request once more — go-containerregistry's `bearerTransport.RoundTrip`.
 */
import { InvalidArgumentError } from '@tsbuild/core';
import { parseWwwAuthenticate, type Challenge } from './challenge.js';
import { hostname, isLoopback } from './endpoint.js';
import type { CredentialSource } from './credentials.js';
import { basicAuthorization, fetchToken, type Token } from './token.js';
import { discard, isReplayable, type Transport } from './transport.js';

export class Authorizer {
  private readonly tokens = new Map<string, Promise<Token>>();

  constructor(private readonly transport: Transport, private readonly credentials: CredentialSource, private readonly insecure: readonly string[] = []) {}

  /** Whether credentials exist for the registry (used to word a 401). */
  async hasCredentials(registry: string): Promise<boolean> {
    return (await this.credentials(registry)) !== undefined;
  }

  private checkRealm(registry: string, realm: string): void {
    if (!realmAllowed(realm, this.insecure)) {
      throw new InvalidArgumentError(`registry ${registry}: its token realm ${realm} is not HTTPS; credentials are not sent there (name ${new URL(realm).host} insecure to allow it)`, { code: 'REGISTRY_REALM_INSECURE' });
    }
  }

  async authorization(registry: string, challenge: Challenge | undefined, scopes: readonly string[], options: { signal?: AbortSignal | undefined; refresh?: boolean } = {}): Promise<string | undefined> {
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      const c = await this.credentials(registry);
      return c && c.username !== undefined ? basicAuthorization(c) : undefined;
    }
    if (challenge.scheme !== 'bearer' || !challenge.params['realm']) return undefined;
    const params = { realm: challenge.params['realm'], service: challenge.params['service'], scopes: [...new Set(scopes)].sort() };
    const key = JSON.stringify([registry, params.realm, params.service, params.scopes]);
    const cached = this.tokens.get(key);
    if (cached && !options.refresh) {
      const token = await cached.catch(() => undefined);
      if (token && token.expiresAt > Date.now()) return `Bearer ${token.token}`;
    }
    const pending = (async () => {
      const credentials = await this.credentials(registry);
      if (credentials) this.checkRealm(registry, params.realm);
      return fetchToken(this.transport, params, credentials, registry, options.signal);
    })();
    this.tokens.set(key, pending);
    pending.catch(() => this.tokens.delete(key));
    return `Bearer ${(await pending).token}`;
  }
}

/** Credentials go to a plain-HTTP realm only where plain HTTP is allowed at all: loopback, or a host named insecure. */
function realmAllowed(realm: string, insecure: readonly string[]): boolean {
  const url = new URL(realm);
  return url.protocol === 'https:' || isLoopback(hostname(url.host)) || insecure.includes(url.host);
}

export interface AuthTarget {
  registry: string;
  challenge: Challenge | undefined;
  scopes: readonly string[];
}

export function withAuth(next: Transport, authorizer: Authorizer, target: AuthTarget): Transport {
  return async (request) => {
    const send = async (challenge: Challenge | undefined, scopes: readonly string[], refresh: boolean) => {
      const header = await authorizer.authorization(target.registry, challenge, scopes, { signal: request.signal, refresh });
      return next(header ? { ...request, headers: { ...request.headers, authorization: header } } : request);
    };
    const response = await send(target.challenge, target.scopes, false);
    if (response.status !== 401 || !isReplayable(request) || !target.challenge) return response;
    const fresh = parseWwwAuthenticate(response.headers['www-authenticate'] ?? '').find((c) => c.scheme === target.challenge!.scheme);
    if (!fresh || fresh.scheme !== 'bearer') return response;
    discard(response);
    const asked = fresh.params['scope'] ? fresh.params['scope'].split(' ') : [];
    return send({ ...target.challenge, params: { ...target.challenge.params, ...fresh.params } }, [...target.scopes, ...asked], true);
  };
}
