/**
 * The plain data that crosses the runtime's border. Nothing here is a class:
 * the builder builds these objects, the executor only reads them.
 */

import type { Mount } from '@tsbuild/core';

/** core's Mount, the same type a snapshotter returns: its mounts pass as `rootfs` unchanged. */
export type { Mount };

/** The process to run, exactly as the caller wants it (shell form is the caller's job). */
export interface ProcessRequest {
  args: string[];
  /** `KEY=value` entries; `PATH` gets a default when absent. */
  env: string[];
  /** Absolute path in the container; created (root, 0755) when missing, like BuildKit. */
  cwd: string;
  /** `name`, `uid`, `name:group`, `uid:gid` (any mix); resolved against the rootfs. Default root. */
  user?: string;
  /** Default 0o022. */
  umask?: number;
}

/** `RUN --mount=type=bind`: a host path at `target`; read-only unless `readonly: false`, whose writes are discarded after the run. */
export interface BindExecMount {
  type: 'bind';
  target: string;
  source: string;
  readonly?: boolean;
  /**
   * With `readonly: false`: writes go to the host source itself (`docker run -v`),
   * instead of the throwaway overlay that RUN --mount=type=bind,rw gets.
   */
  writeThrough?: boolean;
}

export type CacheSharing = 'shared' | 'private' | 'locked';

/** `RUN --mount=type=cache`: a persistent directory keyed by `id`, managed by a CacheMountManager. */
export interface CacheExecMount {
  type: 'cache';
  target: string;
  id: string;
  sharing?: CacheSharing;
  readonly?: boolean;
  /** Owner and mode applied when the cache directory is first created. Defaults 0, 0, 0o755. */
  uid?: number;
  gid?: number;
  mode?: number;
}

/** `RUN --mount=type=tmpfs`. */
export interface TmpfsExecMount {
  type: 'tmpfs';
  target: string;
  /** Bytes; default is the kernel's (half of RAM). */
  size?: number;
}

/** `RUN --mount=type=secret`: bytes from the caller, never written into the rootfs. */
export interface SecretExecMount {
  type: 'secret';
  id: string;
  /** Default `/run/secrets/<id>`. */
  target?: string;
  data: Uint8Array;
  uid?: number;
  gid?: number;
  /** Default 0o400. */
  mode?: number;
}

/** `RUN --mount=type=ssh`: an agent socket on the host, bound in and announced by SSH_AUTH_SOCK. */
export interface SshExecMount {
  type: 'ssh';
  /** Host path of the agent socket. */
  socket: string;
  /** Default `/run/buildkit/ssh_agent.<n>`. */
  target?: string;
}

export type ExecMount = BindExecMount | CacheExecMount | TmpfsExecMount | SecretExecMount | SshExecMount;

export interface ExecRequest {
  /** Container id; must be unique among running containers. Generated when absent. */
  id?: string;
  /** Mounted, in order, at `<bundle>/rootfs`; unmounted after the run. */
  rootfs: Mount[];
  process: ProcessRequest;
  mounts: ExecMount[];
  network: 'host' | 'none';
  hostname?: string;
  /** 'insecure' grants all capabilities and unmasks paths; deciding whether it is allowed is the builder's job. */
  security?: 'sandbox' | 'insecure';
  /** After this many bytes of stdout+stderr the rest is dropped and one notice is written. */
  outputLimitBytes?: number;
  /** Extra `/etc/hosts` entries. */
  extraHosts?: { host: string; ip: string }[];
  /** Process rlimits (`nofile`, `nproc`, …; -1 is unlimited), as BuildKit's generateRlimitOpts (executor/oci/spec_linux.go) sets them. */
  ulimits?: Ulimit[];
  /** `--cgroup-parent`: the container's cgroup goes under it (see cgroupsPathOf in spec.ts). */
  cgroupParent?: string;
}

export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

export interface RunResult {
  exitCode: number;
}

/**
 * Runs one process in an isolated container.
 *
 * Lifecycle of `run`: mount the rootfs → resolve the user → prepare mounts
 * (cache locks, secret files, rw-bind overlays) → write the bundle → run the
 * OCI runtime in the foreground with stdio streamed → on exit, cancellation or
 * failure: kill and delete the container, remove mount-point stubs the runtime
 * created in the rootfs, unmount everything, remove the bundle. `run` resolves
 * with the exit code (non-zero is not an error; see `runOrThrow`), rejects with
 * CanceledError when the signal fires. Nothing is left behind either way.
 */
export interface Executor {
  run(request: ExecRequest, options?: RunOptions): Promise<RunResult>;
}

/** A uid/gid, supplementary groups and home directory, resolved from the rootfs. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** The HOME the process gets when its environment sets none (or an empty one): see user.ts. */
  home: string;
}
