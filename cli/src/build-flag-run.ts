/**
 * Build flags that shape every RUN container: --add-host, --shm-size, --ulimit,
 * --cgroup-parent.
 *
 * `--add-host HOST:IP` (or `HOST=IP`), buildx's toBuildkitExtraHosts
 * (build/utils.go): split at the first `=`, else the first `:`; an IPv6
 * address may be written in brackets. BuildKit's parseExtraHosts
 * (frontend/dockerui/attr.go) lowercases the host and requires an IP address.
 * `host-gateway` (the docker daemon's gateway) has no meaning for tsbuild,
 * whose RUN shares the host network: it is refused by name.
 */
import { isIP } from 'node:net';
import { ramInBytes } from '@tsbuild/dockerfile';
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

/** `--shm-size 64m`: docker's MemBytes (units.RAMInBytes), sent to the frontend as bytes (dockerui parseShmSize). */
export function parseShmSize(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = ramInBytes(value.trim());
  if (n === undefined) throw new UsageError(`--shm-size: invalid size ${JSON.stringify(value)} (e.g. 64m, 1g)`);
  return n;
}

/** The names go-units' ParseUlimit knows (ulimitNameMapping; `as` is disabled there). */
const ULIMIT_NAMES = new Set(['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack']);

/** `--ulimit nofile=1024[:2048]`, repeatable: go-units ParseUlimit, its messages prefixed with the flag. */
export function parseUlimits(values: string[]): Array<{ name: string; soft: number; hard: number }> {
  const byName = new Map<string, { name: string; soft: number; hard: number }>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq < 0) throw new UsageError(`--ulimit: invalid ulimit argument: ${v}`);
    const name = v.slice(0, eq);
    if (!ULIMIT_NAMES.has(name)) throw new UsageError(`--ulimit: invalid ulimit type: ${name}`);
    const parts = v.slice(eq + 1).split(':');
    if (parts.length > 2) throw new UsageError(`--ulimit: too many limit value arguments - ${v.slice(eq + 1)}, can only have up to two, \`soft[:hard]\``);
    const int = (s: string) => {
      if (!/^[-+]?\d+$/.test(s)) throw new UsageError(`--ulimit: invalid limit ${JSON.stringify(s)} in ${v}`);
      return Number(s);
    };
    const soft = int(parts[0]!);
    const hard = parts.length === 2 ? int(parts[1]!) : soft;
    if (soft > hard) throw new UsageError(`--ulimit: ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
    // docker's UlimitOpt keeps one entry per name, the last given.
    byName.set(name, { name, soft, hard });
  }
  return [...byName.values()];
}

/**
 * `--cgroup-parent PATH` (or a systemd `NAME.slice:`): where RUN containers' cgroups go (runtime's cgroupsPathOf).
 * A `..` segment is refused: the parent is a path under the host's cgroup mounts and must stay there.
 */
export function parseCgroupParent(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.split(/[/:]/).includes('..')) throw new UsageError(`--cgroup-parent: ${JSON.stringify(value)} must not contain a .. segment`);
  return value;
}
