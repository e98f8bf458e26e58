/**
 * Op descriptions: what each vertex of a Definition does, as plain
 * JSON-serializable records (BuildKit's solver/pb/ops.proto: `Op` with its
 * `oneof op { exec, source, file, merge … }` and inputs by index). A
 * description holds everything that determines the op's behaviour and its
 * cache key; what it needs from the host at run time (the store, the
 * executor, the context's files, secret values, SSH sockets, abort signals)
 * it does not hold: the worker supplies those when it resolves a description
 * to a runnable op (worker/resolve-op.ts, after BuildKit's
 * worker/base/worker.go `ResolveOp`).
 *
 * Input indexes (`from: { input }`, `hasParent`) refer to the vertex's
 * `inputs`, in order. Secrets and SSH agents are named by id only.
 *
 * Compatibility: a vertex digest is the digest of its description (see
 * digest.ts), and cache keys contain it. The shapes below are those the
 * digests were computed over before descriptions existed (hence the image
 * source without a `source` field); changing a field changes every key, and
 * needs CACHE_KEY_VERSION bumped.
 */
import type { Descriptor, Digest } from '@tsbuild/core';

/** A base image resolved for the target platform (`FROM`, `COPY --from=<image>`). */
export interface ImageSourceSpec {
  /** The normalized reference. */
  ref: string;
  manifestDigest: Digest;
  platform: string;
  layers: Descriptor[];
  diffIDs: Digest[];
}

/** `ADD <url>`: one file, `/<filename>`. */
export interface HttpSourceSpec {
  url: string;
  filename: string;
  checksum?: Digest;
}

/** `ADD <git url>#ref[:subdir]`. */
export interface GitSourceSpec {
  remote: string;
  ref: string;
  subdir: string;
  keepGitDir: boolean;
}

export type ExecMountSpec =
  | { type: 'bind'; target: string; source: string; readonly: boolean; from: { input: number } | { context: true } }
  | { type: 'cache'; target: string; id: string; sharing?: 'shared' | 'private' | 'locked' | undefined; readonly: boolean; uid?: number | undefined; gid?: number | undefined; mode?: number | undefined }
  | { type: 'tmpfs'; target: string; size?: number | undefined }
  | { type: 'secret'; id: string; target?: string | undefined; env?: string | undefined; required: boolean; uid?: number | undefined; gid?: number | undefined; mode?: number | undefined }
  | { type: 'ssh'; id: string; target?: string | undefined; required: boolean }
  /** A file made by the builder (a RUN heredoc script), bound read-only at `target`. */
  | { type: 'inline'; target: string; data: string; mode: number };

export interface ExecSpec {
  args: string[];
  /** The stage's ENV (image config environment). */
  env: string[];
  /** ARGs in scope; RUN sees those ENV does not set as environment variables (BuildKit's rule). */
  buildArgs: Record<string, string>;
  cwd: string;
  user: string;
  network: 'host' | 'none';
  /** `--add-host` entries written into the container's /etc/hosts (in the key: BuildKit's Meta.ExtraHosts). */
  extraHosts?: Array<{ host: string; ip: string }>;
  /** `--ulimit` rlimits (in the key: BuildKit's Meta.Ulimit). */
  ulimits?: Array<{ name: string; soft: number; hard: number }>;
  /** `--cgroup-parent` (in the key: BuildKit's Meta.CgroupParent). */
  cgroupParent?: string;
  security: 'sandbox' | 'insecure';
  mounts: ExecMountSpec[];
  platform: string;
  /** SOURCE_DATE_EPOCH, when set: the layer's mtimes are clamped to it, so it is part of the key. */
  sourceDateEpoch?: number;
  /** Whether inputs[0] is the parent rootfs (else scratch). */
  hasParent: boolean;
}

export type FileAction =
  | {
      kind: 'copy';
      /** The op's context (the build context, or a local source's named context), or an input's tree; input -1 is an empty tree (a stage with no layers). */
      from: { context: true } | { input: number };
      sources: string[];
      dest: string;
      cwd: string;
      chown?: string | undefined;
      chmod?: string | undefined;
      exclude: string[];
      parents: boolean;
      mode: 'copy' | 'add';
    }
  | { kind: 'mkdir'; path: string; owner?: string | undefined; mode: number }
  | { kind: 'mkfile'; path: string; data: string; chown?: string | undefined; chmod?: string | undefined };

export interface FileSpec {
  actions: FileAction[];
  platform: string;
  /** SOURCE_DATE_EPOCH, when set: the layer's mtimes are clamped to it, so it is part of the key. */
  sourceDateEpoch?: number;
  /** Whether inputs[0] is the parent tree (else an empty base: scratch, or COPY --link's own layer). */
  hasParent: boolean;
}

export type ImageSourceOpDescription = { op: 'source'; source?: undefined } & ImageSourceSpec;
export type HttpSourceOpDescription = { op: 'source'; source: 'http' } & HttpSourceSpec;
export type GitSourceOpDescription = { op: 'source'; source: 'git' } & GitSourceSpec;
/** A local `--build-context`: its tree copied onto scratch by file actions reading `context` (its name). */
export type LocalSourceOpDescription = { op: 'local'; context: string } & FileSpec;
/**
 * `proxyEnv` (HTTP_PROXY… build args, `NAME=value`) reaches the process's
 * environment but neither the digest nor the key: BuildKit's
 * solver/llbsolver/ops/exec.go `ExecOp.CacheMap` clears `Meta.ProxyEnv`.
 */
export type ExecOpDescription = { op: 'exec'; proxyEnv?: string[] } & ExecSpec;
export type FileOpDescription = { op: 'file' } & FileSpec;
/** COPY --link: inputs [parent?, layer] — the layer stacked on the parent. */
export type MergeOpDescription = { op: 'merge'; hasParent: boolean };

export type OpDescription =
  | ImageSourceOpDescription
  | HttpSourceOpDescription
  | GitSourceOpDescription
  | LocalSourceOpDescription
  | ExecOpDescription
  | FileOpDescription
  | MergeOpDescription;

/** The kind of op a description resolves to: the key of the worker's resolver table. */
export type OpKind = 'image' | 'http' | 'git' | 'local' | 'exec' | 'file' | 'merge';

export type OpDescriptionOf<K extends OpKind> = {
  image: ImageSourceOpDescription;
  http: HttpSourceOpDescription;
  git: GitSourceOpDescription;
  local: LocalSourceOpDescription;
  exec: ExecOpDescription;
  file: FileOpDescription;
  merge: MergeOpDescription;
}[K];

export function opKind(d: OpDescription): OpKind {
  if (d.op !== 'source') return d.op;
  return d.source ?? 'image';
}
