/**
 * The OCI runtime-spec `config.json` for one RUN step, built by a pure
 * function (moby/buildkit `executor/oci/spec.go`): no I/O, so every isolation
 * decision is testable without root.
 */
import { posix } from 'node:path';
import type { ExecRequest, ResolvedUser } from './types.js';
import {
  ALL_CAPABILITIES,
  DEFAULT_CAPABILITIES,
  DEFAULT_MOUNTS,
  DEFAULT_PATH,
  MASKED_PATHS,
  READONLY_PATHS,
  type SpecMount,
} from './spec-defaults.js';

export interface BuildSpecOptions {
  /** Mounts prepared for the step (etc files, RUN --mount), appended after the defaults. */
  mounts: SpecMount[];
  /** Extra environment entries (e.g. SSH_AUTH_SOCK) added when the request does not set the key. */
  extraEnv?: string[];
  /**
   * The capabilities this process can hand out (its bounding set). A runtime
   * cannot grant more — capset fails — so 'insecure' means "all of these" and
   * the defaults are trimmed to them. Default: every capability.
   */
  hostCapabilities?: readonly string[];
  /** Relative to the bundle; default 'rootfs'. */
  rootPath?: string;
  /** The container id: its cgroup's name under `request.cgroupParent`. */
  containerId?: string;
}

/** The subset of the OCI runtime spec we produce; plain JSON. */
export interface RuntimeSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; umask: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<'bounding' | 'effective' | 'permitted', string[]>;
    noNewPrivileges: boolean;
    rlimits?: Array<{ type: string; hard: number | string; soft: number | string }>;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: SpecMount[];
  linux: {
    namespaces: { type: string }[];
    maskedPaths: string[];
    readonlyPaths: string[];
    resources: { devices: { allow: boolean; access: string }[] };
    cgroupsPath?: string;
  };
}

/**
 * `KEY=value` list with `PATH` defaulted and `extra` added where the key is
 * absent. Later duplicates win, like docker. With `home`, a missing or empty
 * HOME becomes `HOME=<home>`, last, as runc's prepareEnv appends it
 * (libcontainer/env.go).
 */
export function buildEnv(env: readonly string[], extra: readonly string[] = [], home?: string): string[] {
  const byKey = new Map<string, string>();
  for (const entry of [...extra, ...env]) byKey.set(entry.split('=', 1)[0]!, entry);
  if (!byKey.has('PATH')) byKey.set('PATH', `PATH=${DEFAULT_PATH}`);
  if (home !== undefined && (byKey.get('HOME') ?? 'HOME=') === 'HOME=') {
    byKey.delete('HOME');
    byKey.set('HOME', `HOME=${home}`);
  }
  return [...byKey.values()];
}

export function buildSpec(request: ExecRequest, user: ResolvedUser, options: BuildSpecOptions): RuntimeSpec {
  const insecure = request.security === 'insecure';
  const host = new Set(options.hostCapabilities ?? ALL_CAPABILITIES);
  const caps = (insecure ? ALL_CAPABILITIES : DEFAULT_CAPABILITIES).filter((c) => host.has(c));
  const namespaces = [{ type: 'mount' }, { type: 'pid' }, { type: 'uts' }, { type: 'ipc' }];
  if (request.network === 'none') namespaces.push({ type: 'network' });
  const additionalGids = [...new Set([user.gid, ...user.additionalGids])];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: user.uid, gid: user.gid, umask: request.process.umask ?? 0o022, additionalGids },
      args: [...request.process.args],
      env: buildEnv(request.process.env, options.extraEnv, user.home),
      cwd: request.process.cwd || '/',
      capabilities: { bounding: caps, effective: [...caps], permitted: [...caps] },
      noNewPrivileges: false,
      ...(request.ulimits?.length ? { rlimits: request.ulimits.map((u) => ({ type: `RLIMIT_${u.name.toUpperCase()}`, hard: rlimitValue(u.hard), soft: rlimitValue(u.soft) })) } : {}),
    },
    root: { path: options.rootPath ?? 'rootfs', readonly: false },
    hostname: request.hostname ?? 'buildkitsandbox',
    mounts: [
      ...DEFAULT_MOUNTS.map((m) => ({
        ...m,
        // insecure (like `--privileged`) gets a writable /sys and cgroup.
        options: insecure && (m.type === 'sysfs' || m.type === 'cgroup') ? m.options.filter((o) => o !== 'ro') : [...m.options],
      })),
      ...options.mounts,
    ],
    linux: {
      namespaces,
      maskedPaths: insecure ? [] : [...MASKED_PATHS],
      readonlyPaths: insecure ? [] : [...READONLY_PATHS],
      // Deny all device access but the defaults every runtime adds (null, zero, full, random, urandom, tty, ptmx).
      resources: { devices: insecure ? [{ allow: true, access: 'rwm' }] : [{ allow: false, access: 'rwm' }] },
      ...(request.cgroupParent && options.containerId ? { cgroupsPath: cgroupsPathOf(request.cgroupParent, options.containerId) } : {}),
    },
  };
}

/**
 * linux.cgroupsPath under a cgroup parent, as BuildKit's GenerateSpec (executor/oci/spec.go): a systemd slice
 * written `name.slice:` takes the id after the colon (`name.slice:prefix:id` for the systemd driver); any other
 * parent is a cgroupfs path, `/<parent>/buildkit/<id>`.
 */
export function cgroupsPathOf(parent: string, id: string): string {
  if (parent.includes('.slice') && parent.endsWith(':')) return parent + id;
  return posix.join('/', parent, 'buildkit', id);
}

/** RLIM_INFINITY marker: -1 is Go's uint64(-1), past a JS number's precision, so specJson writes it verbatim. */
const RLIM_INFINITY = 'RLIM_INFINITY';

function rlimitValue(n: number): number | string {
  return n < 0 ? RLIM_INFINITY : n;
}

/** The spec as config.json: an unlimited rlimit is written as 18446744073709551615 (what runc reads into a uint64). */
export function specJson(spec: RuntimeSpec): string {
  return JSON.stringify(spec).replaceAll(`"${RLIM_INFINITY}"`, '18446744073709551615');
}
