/**
 * `--add-host HOST:IP` (or `HOST=IP`), buildx's toBuildkitExtraHosts
 * (build/utils.go): split at the first `=`, else the first `:`; an IPv6
 * address may be written in brackets. BuildKit's parseExtraHosts
 * (frontend/dockerui/attr.go) lowercases the host and requires an IP address.
 * `host-gateway` (the docker daemon's gateway) has no meaning for tsbuild,
 * whose RUN shares the host network: it is refused by name.
 */
import { isIP } from 'node:net';
import { UsageError } from './usage-error.js';

export function parseAddHosts(values: string[]): Array<{ host: string; ip: string }> {
  return values.map((v) => {
    let cut = v.indexOf('=');
    if (cut < 0) cut = v.indexOf(':');
    const host = cut < 0 ? '' : v.slice(0, cut);
    let ip = cut < 0 ? '' : v.slice(cut + 1);
    if (!host || !ip) throw new UsageError(`--add-host: invalid host ${JSON.stringify(v)} (expected HOST:IP)`);
    if (ip === 'host-gateway') throw new UsageError('--add-host: host-gateway is not supported (RUN shares the host network: use 127.0.0.1)');
    if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
    if (isIP(ip) === 0) throw new UsageError(`--add-host: invalid IP address ${JSON.stringify(ip)} in ${JSON.stringify(v)}`);
    return { host: host.toLowerCase(), ip };
  });
}
