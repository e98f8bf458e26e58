/**
 * The build API's options and result: the programmatic mirror of
 * `tsbuild build`'s flags (a `docker buildx build` user knows them). The CLI
 * turns flags into BuildOptions; the server sends them over the wire; both get
 * the same BuildResult and BuildEvents.
 */
import type { Writable } from 'node:stream';
import type { Compression, Descriptor, Digest, Platform } from '@tsbuild/core';
import type { RegistryClient } from '@tsbuild/registry-client';
import type { Executor } from '@tsbuild/runtime';
import type { Store } from '@tsbuild/store';
import type { Solver } from '../solver/index.js';
import type { LayerResult } from '../worker/types.js';
import type { BuildEventListener, BuildWarning } from './events.js';

export interface SecretSpec {
  id: string;
  /** Read from this file… */
  src?: string;
  /** …or from this environment variable (of the build's `env`). */
  env?: string;
  /** `cache=content`: a step mounting this secret rebuilds when the value changes (a salted digest enters the key; the value never does). */
  cacheMode?: 'content';
}

export interface SshSpec {
  /** `default` or a name used by RUN --mount=type=ssh,id=… */
  id: string;
  /** Agent socket paths; default $SSH_AUTH_SOCK. */
  paths?: string[];
}

export type OutputSpec =
  | { type: 'image'; name?: string[]; push?: boolean }
  | { type: 'oci' | 'docker'; dest: string; name?: string[] }
  /**
   * The archive streamed into `stream` instead of a file (the CLI's `--load` pipes it into dockerd's image load);
   * `to` names the receiver in progress. The export step ends when `stream` has finished (its `final` may wait for
   * the receiver's answer) and fails with the stream's error.
   */
  | { type: 'oci' | 'docker'; stream: Writable; to: string; name?: string[] }
  | { type: 'local'; dest: string }
  | { type: 'tar'; dest: string };

/**
 * `--cache-from`: a remote cache to look keys up in (docs/cache-format.md). A registry reference may name
 * a cache manifest or an image with an inline cache. A missing or unreadable cache is a warning.
 */
export type CacheImportSpec =
  | { type: 'registry'; ref: string }
  /** An OCI image layout directory; `tag` its index.json ref name (default `latest`). */
  | { type: 'local'; src: string; tag?: string };

/** `--cache-to`: where this build's cache goes (BuildKit's cache exporter attributes). */
export type CacheExportSpec = (
  | { type: 'registry'; ref: string }
  | { type: 'local'; dest: string; tag?: string }
  /** Into the image config (needs an image that is pushed or saved to be useful); always mode=min. */
  | { type: 'inline' }
) & {
  /** `min` (default): the results the image is made of; `max`: every step's. */
  mode?: 'min' | 'max';
  /** Default true: an OCI image manifest; false: an OCI index (BuildKit's older form). */
  imageManifest?: boolean;
  /** A failed export is a warning instead of failing the build. */
  ignoreError?: boolean;
  /** Of layers the store holds uncompressed; default gzip. */
  compression?: Compression;
  /** Also the contents of `RUN --mount=type=cache` directories, restored by a `cacheFrom` import (beyond BuildKit). */
  cacheMounts?: boolean;
};

export interface BuildOptions {
  /** The build context directory. (`-`, a tar on stdin, is unpacked to a directory by the caller.) */
  context: string;
  /** Path of the Dockerfile; default `<context>/Dockerfile`. */
  dockerfile?: string;
  /** The Dockerfile's text (`-f -`); `dockerfile` then only names it in messages. */
  dockerfileText?: string;
  tags?: string[];
  target?: string;
  buildArgs?: Record<string, string>;
  secrets?: SecretSpec[];
  ssh?: SshSpec[];
  labels?: Record<string, string>;
  /** Default network for RUN: `host` (so package mirrors are reachable) or `none`. */
  network?: 'host' | 'none';
  noCache?: boolean;
  /** Stage names (or indexes) never served from the cache. */
  noCacheFilter?: string[];
  /** Default: `[{ type: 'image' }]` — tag into the store. */
  outputs?: OutputSpec[];
  /** Target platform, e.g. `linux/amd64`; default the host's. */
  platform?: string;
  /** `--build-context NAME=DIR|docker-image://REF|oci-layout://DIR`. */
  buildContexts?: Record<string, string>;
  /**
   * Whether the context watcher may be used (default true; env TSBUILD_CONTEXT_WATCH=0 also turns it off): a
   * background process per context directory that lets a rebuild of an unchanged context skip the walk
   * (builder/src/context/watch/).
   */
  contextWatch?: boolean;
  /** `content`: permission bits other than the executable bit and ownership do not enter context checksums. */
  contextHash?: 'exact' | 'content';
  /** The `security.insecure` entitlement: RUN --security=insecure allowed. */
  allowInsecure?: boolean;
  /**
   * The `network.host` entitlement: RUN --network=host allowed. Default true: tsbuild has no bridge
   * network, so a local RUN has the host's network anyway; a build server sets it from its client's --allow.
   */
  allowNetworkHost?: boolean;
  /** `--add-host`: extra /etc/hosts entries of every RUN container (BuildKit's ExecOp Meta.ExtraHosts: part of the step's key). */
  extraHosts?: Array<{ host: string; ip: string }>;
  /**
   * `--annotation`: annotations of the image manifest (BuildKit's `annotation-manifest` exporter attrs);
   * one with a platform applies only to a build for that platform. OCI manifests only: Docker schema2 has none.
   */
  annotations?: Array<{ key: string; value: string; platform?: string }>;
  /** `--shm-size` in bytes: a tmpfs of that size on /dev/shm of every RUN (dockerfile2llb dispatchRun). */
  shmSize?: number;
  /** `--ulimit`: rlimits of every RUN (BuildKit's ExecOp Meta.Ulimit: part of the step's key). */
  ulimits?: Array<{ name: string; soft: number; hard: number }>;
  /** `--cgroup-parent`: every RUN container's cgroup goes under it (BuildKit's ExecOp Meta.CgroupParent: part of the step's key). */
  cgroupParent?: string;
  /** Clamp timestamps (image created, history, layer mtimes) for reproducible builds. */
  sourceDateEpoch?: number;
  /**
   * Layer compression of the built image. Unset: uncompressed (as in dockerd's image store: no build waits
   * for compression), or gzip when an `oci`/`docker` archive is among the outputs (BuildKit's default).
   * Uncompressed layers the image reuses (cached steps, base images) are compressed at export.
   */
  compression?: Compression;
  mediaTypes?: 'oci' | 'docker';
  /** Bound on concurrently running I/O vertices (copies, sources, exports); default cores × 2. */
  maxParallelism?: number;
  /**
   * Bound on concurrently running containers (RUN steps); default the I/O bound. Containers
   * spend much of their time waiting (sleep, network, disk), so it is not the core count:
   * four independent stages run at once on two cores, as under BuildKit (which has no bound).
   */
  maxContainers?: number;
  /**
   * Where base images come from (base-images.ts): `missing` (default) the store, pulling what it lacks;
   * `always` (`--pull`) the registry resolves every tag again; `never` (`--offline`) the store only.
   */
  pull?: PullMode;
  /** `--cache-from`, in order (an earlier one wins a key two map). */
  cacheFrom?: CacheImportSpec[];
  /** `--cache-to`. */
  cacheTo?: CacheExportSpec[];
  /** Environment for `--secret env=`; default process.env. */
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onEvent?: BuildEventListener;
}

export type PullMode = 'missing' | 'always' | 'never';

/**
 * Brings an image from its registry into the store (the CLI makes one with
 * @tsbuild/registry-client; the builder never speaks the protocol itself).
 * `pull` resolves `ref` (normalized) for `platform` at its registry once,
 * copies the blobs the store lacks, tags `ref` in the store, and returns the
 * manifest descriptor it tagged. `onLog` gets progress lines
 * (`resolve REF@DIGEST`, one per blob). Failures are TsbuildErrors
 * (RegistryError: registry, repository, status, the registry's code).
 */
export interface ImagePuller {
  pull(ref: string, options: { platform: Platform; signal?: AbortSignal; onLog?: (line: string) => void }): Promise<Descriptor>;
}

/** What the builder needs from its host, injected (the CLI and server make them). */
export interface BuildDeps {
  store: Store;
  executor: Executor;
  /** Without one, an image the store lacks is a BUILD_BASE_IMAGE_NOT_FOUND error. */
  puller?: ImagePuller;
  /** The client for registry caches (the host's credentials, CAs, insecure registries); default one with docker's config. The host closes it. */
  registry?: () => Promise<RegistryClient>;
  /** Where the executor keeps `RUN --mount=type=cache` directories (for `cacheMounts`); default `<store>/cache-mounts`. */
  cacheMountsDir?: string;
  /**
   * A solver shared with other builds on the same store (openSolver): identical steps
   * in flight at once run once for all of them. Without one the build makes its own.
   */
  solver?: BuildSolver;
}

/** The solver builds run on (the worker's layer results). */
export type BuildSolver = Solver<LayerResult>;

export interface BuildResult {
  /** The manifest digest. */
  digest: Digest;
  /** The config digest (docker's image ID). */
  configDigest: Digest;
  tags: string[];
  /** Like buildx's --metadata-file: `containerimage.digest`, `containerimage.config.digest`, `image.name`, … */
  metadata: Record<string, unknown>;
  warnings: BuildWarning[];
}
