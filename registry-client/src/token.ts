/**
 * The Bearer token flow of the distribution token spec
 * (docs/spec/auth/token.md): GET the realm with `service` and one `scope`
 * per resource, Basic credentials when there are any (anonymous otherwise);
 * with an identity token, POST `grant_type=refresh_token` (docs/spec/auth/oauth.md),
 * as containerd's remotes/docker/auth does, which BuildKit's resolver uses
 * (`FetchToken` is the GET, `FetchTokenWithOAuth` the POST). Request builders are pure; the token
 * cache keeps each token until shortly before `issued_at + expires_in`.
 */
import { registryError } from './errors.js';
import type { Credentials } from './credentials.js';
import { readText, type RegistryRequest, type Transport } from './transport.js';

export interface TokenParams {
  realm: string;
  service?: string | undefined;
  scopes: readonly string[];
}

/** `repository:library/busybox:pull`, `repository:app:pull,push`. */
export function repositoryScope(repository: string, actions: readonly ('pull' | 'push')[]): string {
  return `repository:${repository}:${actions.join(',')}`;
}

export function basicAuthorization(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username ?? ''}:${c.password ?? ''}`).toString('base64')}`;
}

export function tokenRequest(params: TokenParams, credentials: Credentials | undefined): RegistryRequest {
  const url = new URL(params.realm);
  const context = { operation: `token from ${url.host}` };
  if (credentials?.identityToken) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identityToken, client_id: 'tsbuild' });
    if (params.service) form.set('service', params.service);
    if (params.scopes.length) form.set('scope', params.scopes.join(' '));
    return { method: 'POST', url: url.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString(), context };
  }
  if (params.service) url.searchParams.set('service', params.service);
  for (const scope of params.scopes) url.searchParams.append('scope', scope);
  const headers: Record<string, string> = {};
  if (credentials?.username !== undefined) headers['authorization'] = basicAuthorization(credentials);
  return { method: 'GET', url: url.toString(), headers, context };
}

export interface Token {
  token: string;
  /** ms since the epoch after which the token is not used again. */
  expiresAt: number;
}

/** Parses a token answer; `expires_in` defaults to 60 s (the spec's minimum). */
export function parseTokenResponse(text: string, now = Date.now()): Token | undefined {
  try {
    const json = JSON.parse(text) as { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    const token = json.token || json.access_token;
    if (!token) return undefined;
    const issued = json.issued_at ? Date.parse(json.issued_at) : now;
    const lifetime = (json.expires_in && json.expires_in > 0 ? json.expires_in : 60) * 1000;
    // Ten seconds of margin: a token must not expire between being chosen and being checked.
    return { token, expiresAt: (Number.isFinite(issued) ? issued : now) + lifetime - 10_000 };
  } catch {
    return undefined;
  }
}

export async function fetchToken(transport: Transport, params: TokenParams, credentials: Credentials | undefined, registry: string, signal?: AbortSignal): Promise<Token> {
  const request = { ...tokenRequest(params, credentials), signal };
  request.context = { ...request.context!, registry };
  const response = await transport(request);
  const text = await readText(response);
  if (response.status !== 200) throw registryError(request.context, response.status, text);
  const token = parseTokenResponse(text);
  if (!token) throw registryError(request.context, response.status, 'the token server answered without a token');
  return token;
}
