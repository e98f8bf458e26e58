/**
 * Which URL a registry name is reached at. `docker.io` is a name, not a host:
 * its API lives at `registry-1.docker.io` (docker's `registry.IndexHostname`
 * → `DefaultV2Registry`). Plain HTTP is allowed only for loopback hosts and
 * for registries the caller names insecure, as dockerd does for 127.0.0.0/8.
 */
import { DEFAULT_REGISTRY } from '@tsbuild/core';

const DOCKER_HUB_HOST = 'registry-1.docker.io';

export interface EndpointOptions {
  /** Registry names (`host[:port]`) that may be spoken to over plain HTTP. */
  insecure?: readonly string[];
}

export interface Endpoint {
  /** The name as written in references: `docker.io`, `localhost:5000`. */
  registry: string;
  /** The `host[:port]` connected to. */
  host: string;
  /** Schemes to try, in order; `http` is present only when allowed. */
  schemes: ('https' | 'http')[];
}

export function endpointFor(registry: string, options: EndpointOptions = {}): Endpoint {
  const host = registry === DEFAULT_REGISTRY || registry === 'index.docker.io' ? DOCKER_HUB_HOST : registry;
  const plainAllowed = isLoopback(hostname(host)) || (options.insecure ?? []).includes(registry);
  return { registry, host, schemes: plainAllowed ? ['https', 'http'] : ['https'] };
}

/** The host part of `host[:port]` (IPv6 in brackets kept without them). */
export function hostname(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'));
  const colon = hostPort.lastIndexOf(':');
  return colon >= 0 ? hostPort.slice(0, colon) : hostPort;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
