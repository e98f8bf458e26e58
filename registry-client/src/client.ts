/**
 * RegistryClient: the sending part every registry operation goes through.
 * Per registry it keeps one chain of layers — undici transport (TLS from
 * certs.d, keep-alive, bounded connections) → retry → user agent — and the
 * result of the `/v2/` ping; per request it adds auth for the repository
 * and actions asked. A response that is not 2xx is the caller's to turn
 * into an error with `failure(...)`, which names registry, repository,
 * digest, status and OCI code.
 */
import { RegistryError } from '@tsbuild/core';
import { Authorizer, withAuth } from './auth.js';
import { DEFAULT_CERTS_DIR, envExtraCa, loadCertsDir } from './certs.js';
import { dockerConfigCredentials, type CredentialSource } from './credentials.js';
import { endpointFor } from './endpoint.js';
import { registryError, type ErrorContext } from './errors.js';
import { httpTransport } from './http-transport.js';
import { ping, type PingResult } from './ping.js';
import { withRetry, type RetryOptions } from './retry.js';
import { repositoryScope } from './token.js';
import { discard, readText, withUserAgent, type RegistryRequest, type RegistryResponse, type Transport } from './transport.js';

export interface RegistryClientOptions {
  /** Default: docker's config.json and credential helpers. */
  credentials?: CredentialSource;
  /** Registry names that may be spoken to over plain HTTP (loopback always may). */
  insecure?: readonly string[];
  /** Default `/etc/docker/certs.d`. */
  certsDir?: string;
  /** Extra CA certificates (PEM) trusted for every registry (`--registry-ca`). */
  ca?: readonly string[];
  userAgent?: string;
  retry?: RetryOptions;
  /** Concurrent connections per registry (default 8). */
  connections?: number;
  /**
   * Idle timeout of a request (default 60 s): no response headers, or no
   * response body bytes, for this long fails the attempt as a network
   * failure, which is retried (a registry that accepts and then stalls).
   */
  timeoutMs?: number;
}

export interface RepositoryRequest extends Omit<RegistryRequest, 'url' | 'context'> {
  /** Path after the repository (`/manifests/latest`, `/blobs/sha256:…`), or an upload location: an absolute URL or a `/v2/…` path. */
  path: string;
  operation: string;
  digest?: string;
}

interface Host {
  transport: Transport & { close(): Promise<void> };
  chain: Transport;
  ping: PingResult;
}

export class RegistryClient {
  private readonly hosts = new Map<string, Promise<Host>>();
  private readonly authorizer: Authorizer;
  private readonly tokenTransport: Transport & { close(): Promise<void> };
  private extraCaPending: Promise<{ ca?: string[] }> | undefined;

  constructor(private readonly options: RegistryClientOptions = {}) {
    this.tokenTransport = lazyTransport(async () => httpTransport({ tls: await this.extraCa(), ...this.timeout() }));
    this.authorizer = new Authorizer(this.layers(this.tokenTransport), options.credentials ?? dockerConfigCredentials(), options.insecure ?? []);
  }

  private timeout(): { timeoutMs?: number } {
    return this.options.timeoutMs !== undefined ? { timeoutMs: this.options.timeoutMs } : {};
  }

  /** Sends a request about `registry/repository` with auth for `actions`. */
  async send(registry: string, repository: string, actions: readonly ('pull' | 'push')[], request: RepositoryRequest, extraScopes: readonly string[] = []): Promise<RegistryResponse> {
    const host = await this.host(registry, request.signal);
    const url = /^https?:\/\//.test(request.path) ? request.path
      : request.path.startsWith('/v2/') ? `${host.ping.base}${request.path}` : `${host.ping.base}/v2/${repository}${request.path}`;
    const context: ErrorContext = { operation: request.operation, registry, repository, digest: request.digest };
    const scopes = [repositoryScope(repository, actions), ...extraScopes];
    // An upload location on another origin (a storage backend) gets no Authorization: the token is the registry's.
    const sameOrigin = new URL(url).origin === new URL(host.ping.base).origin;
    const authed = sameOrigin ? withAuth(host.chain, this.authorizer, { registry, challenge: host.ping.challenge, scopes }) : host.chain;
    const { path: _path, operation: _op, digest: _digest, ...rest } = request;
    return authed({ ...rest, url, context });
  }

  /**
   * `GET /v2/` with the registry's auth for no particular repository (what
   * `docker login` checks): resolves when the registry accepts the
   * credentials, else throws its RegistryError.
   */
  async checkAccess(registry: string, signal?: AbortSignal): Promise<void> {
    const host = await this.host(registry, signal);
    const context: ErrorContext = { operation: 'GET /v2/', registry };
    const authed = withAuth(host.chain, this.authorizer, { registry, challenge: host.ping.challenge, scopes: [] });
    const response = await authed({ method: 'GET', url: `${host.ping.base}/v2/`, signal, context });
    if (response.status === 200) { response.body.resume(); return; }
    throw await this.failure(registry, '', { operation: 'GET /v2/' }, response);
  }

  /** The error for a response that was not what the operation needed; consumes its body. */
  async failure(registry: string, repository: string, request: Pick<RepositoryRequest, 'operation' | 'digest'>, response: RegistryResponse): Promise<RegistryError> {
    let text = '';
    if (request.operation.startsWith('HEAD')) discard(response);
    else text = await readText(response).catch(() => '');
    const err = registryError({ operation: request.operation, registry, repository, digest: request.digest }, response.status, text);
    if (response.status !== 401) return err;
    const hint = (await this.authorizer.hasCredentials(registry).catch(() => false))
      ? `the credentials for ${registry} were not accepted` : `no credentials for ${registry}: tsbuild login ${registry}`;
    return new RegistryError(err.category, `${err.message} (${hint})`, err.status, err.ociCode, {
      registry, repository, digest: request.digest, code: err.code,
    });
  }

  async close(): Promise<void> {
    const hosts = await Promise.allSettled([...this.hosts.values()]);
    await Promise.all([this.tokenTransport.close(), ...hosts.map((h) => (h.status === 'fulfilled' ? h.value.transport.close() : undefined))]);
  }

  /** `--registry-ca` certificates and the environment's extra CA files, trusted for every registry and token server. */
  private extraCa(): Promise<{ ca?: string[] }> {
    this.extraCaPending ??= envExtraCa().then((env) => {
      const ca = [...(this.options.ca ?? []), ...env];
      return ca.length ? { ca } : {};
    });
    return this.extraCaPending;
  }

  private layers(transport: Transport): Transport {
    return withUserAgent(withRetry(transport, this.options.retry), this.options.userAgent ?? 'tsbuild/0.1');
  }

  private host(registry: string, signal: AbortSignal | undefined): Promise<Host> {
    let pending = this.hosts.get(registry);
    if (!pending) {
      pending = (async () => {
        const endpoint = endpointFor(registry, { insecure: this.options.insecure ?? [] });
        const tls = await loadCertsDir(endpoint.host, this.options.certsDir ?? DEFAULT_CERTS_DIR);
        const extra = await this.extraCa();
        if (extra.ca) tls.ca = [...(tls.ca ?? []), ...extra.ca];
        const transport = httpTransport({ tls, connections: this.options.connections ?? 8, ...this.timeout() });
        const chain = this.layers(transport);
        const probe = withUserAgent(transport, this.options.userAgent ?? 'tsbuild/0.1');
        return { transport, chain, ping: await ping(chain, endpoint, signal, probe) };
      })();
      this.hosts.set(registry, pending);
      pending.catch(() => this.hosts.delete(registry));
    }
    return pending;
  }
}

/** A transport made on first use (its TLS material is read asynchronously). */
function lazyTransport(make: () => Promise<Transport & { close(): Promise<void> }>): Transport & { close(): Promise<void> } {
  let made: Promise<Transport & { close(): Promise<void> }> | undefined;
  const send: Transport = async (request) => (await (made ??= make()))(request);
  return Object.assign(send, { close: async () => { if (made) await (await made).close(); } });
}
