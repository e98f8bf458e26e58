/**
 * /etc/hosts, /etc/resolv.conf and /etc/hostname for a step: contents built by
 * pure functions, written to the per-run directory and bind-mounted read-only,
 * so they never end up in the layer.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SpecMount } from './spec-defaults.js';

const DEFAULT_NAMESERVERS = 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n';

export function hostsFile(hostname: string, extraHosts: { host: string; ip: string }[] = []): string {
  const lines = [
    `127.0.0.1\tlocalhost ${hostname}`,
    '::1\tlocalhost ip6-localhost ip6-loopback',
    ...extraHosts.map((h) => `${h.ip}\t${h.host}`),
  ];
  return lines.join('\n') + '\n';
}

/**
 * The host's resolv.conf; without host networking, loopback nameservers
 * (systemd-resolved, dnsmasq) are unreachable, so they are dropped and the
 * public defaults used when none remain (docker's rule).
 */
export function resolvConf(hostText: string | undefined, network: 'host' | 'none'): string {
  if (hostText === undefined || hostText.trim() === '') return DEFAULT_NAMESERVERS;
  if (network === 'host') return hostText;
  const lines = hostText.split('\n').filter((l) => l.trim() !== '' && !/^\s*nameserver\s+(127\.|::1\b)/.test(l));
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) lines.push(DEFAULT_NAMESERVERS.trimEnd());
  return lines.join('\n').replace(/\n*$/, '\n');
}

/** Writes the three files into `dir` and returns their read-only bind mounts. */
export async function writeEtcFiles(
  dir: string,
  opts: { hostname: string; network: 'host' | 'none'; extraHosts?: { host: string; ip: string }[] },
): Promise<SpecMount[]> {
  // Synchronous: three small files per RUN, right before its container starts.
  let hostResolv: string | undefined;
  try {
    hostResolv = readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    hostResolv = undefined;
  }
  const files: [string, string][] = [
    ['/etc/hosts', hostsFile(opts.hostname, opts.extraHosts)],
    ['/etc/resolv.conf', resolvConf(hostResolv, opts.network)],
    ['/etc/hostname', `${opts.hostname}\n`],
  ];
  return files.map(([dest, text]) => {
    const source = join(dir, dest.slice('/etc/'.length));
    writeFileSync(source, text, { mode: 0o644 });
    return { destination: dest, type: 'bind', source, options: ['rbind', 'ro'] };
  });
}
