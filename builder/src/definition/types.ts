/**
 * The definition: the stage graph turned into a DAG of vertices that are
 * plain data (BuildKit's LLB `pb.Definition`): each vertex names its op with
 * a serializable description (ops.ts), its inputs by index and where it comes
 * from. It can be written to JSON, sent, cached and diffed; the worker
 * resolves it to runnable solver vertices (worker/resolve-op.ts). This module
 * knows Dockerfile steps and nothing of the worker; the solver below never
 * sees a step, the frontend above never sees a vertex.
 */
import type { Digest, ImageConfig, SourceRange } from '@tsbuild/core';
import type { StageGraph } from '@tsbuild/dockerfile';
import type { ImageSourceSpec, OpDescription } from './ops.js';

/** A base or `--from` image resolved from the store for the target platform. */
export interface ResolvedBase extends ImageSourceSpec {
  config: ImageConfig;
}

/** A local directory `--build-context`: the definition names it; its files are the worker's to read. */
export interface LocalSource {
  name: string;
}

export interface DefinitionOptions {
  graph: StageGraph;
  /** The Dockerfile's name in explain ids and errors. */
  file: string;
  /** Image refs as written in the Dockerfile → resolved image. */
  images: ReadonlyMap<string, ResolvedBase>;
  /** Image refs as written → a local directory `--build-context` (its tree is the source). */
  locals?: ReadonlyMap<string, LocalSource> | undefined;
  network: 'host' | 'none';
  allowInsecure: boolean;
  /** `false`: RUN --network=host is refused (the network.host entitlement is not granted; a build server's client did not --allow it). */
  allowNetworkHost?: boolean | undefined;
  /** `--add-host` entries for every RUN (dockerfile2llb dispatchRun: llb.AddExtraHost for each). */
  extraHosts?: ReadonlyArray<{ host: string; ip: string }> | undefined;
  /** `--shm-size` (bytes) and `--ulimit` for every RUN (dockerfile2llb dispatchRun: a /dev/shm tmpfs mount, llb.AddUlimit). */
  shmSize?: number | undefined;
  ulimits?: ReadonlyArray<{ name: string; soft: number; hard: number }> | undefined;
  /** `--cgroup-parent` for every RUN (dockerfile2llb dispatchRun: llb.WithCgroupParent). */
  cgroupParent?: string | undefined;
  /** SOURCE_DATE_EPOCH: layers are packed with clamped mtimes, so it is part of every layer step's key. */
  sourceDateEpoch?: number | undefined;
  /** `--no-cache-filter`: stage names or indexes whose vertices get `ignoreCache`. */
  noCacheStages?: readonly string[] | undefined;
  /** A multi-platform build's: step names start with their stage's platform (`[linux/arm64 build 2/3] RUN …`). */
  platformPrefix?: boolean | undefined;
}

/**
 * One vertex: BuildKit's `pb.Op` (description, inputs) with its OpMetadata
 * (ignoreCache) and source location (stage, range) beside it. Unlike LLB,
 * where an op is its digest (client/llb/state.go `marshal` keeps one op per
 * digest and merges their metadata), two vertices here may share a digest —
 * two stages running the same step keep their own names and explain ids —
 * which is why inputs are indexes; the solver runs such identical work once
 * (same cache key, one flight).
 */
export interface DefinitionVertex {
  /** The digest of the op description and the inputs' digests (digest.ts); two vertices may share one. */
  digest: Digest;
  /** For progress, as BuildKit prints it: `[build 2/5] RUN make`. */
  name: string;
  /** Indexes into `Definition.vertices` (each lower than this vertex's own), in the op's input order. */
  inputs: number[];
  op: OpDescription;
  /** Stable identity across builds (`<dockerfile>#<target>#<stage>#<line>`): a miss is explained against the last build of it. */
  explainId?: string;
  /** Never served from the cache (`--no-cache-filter`; BuildKit's OpMetadata `ignore_cache`). Not part of the digest. */
  ignoreCache?: true;
  /** The stage the vertex was made for (name, else index), and its index. */
  stage: string;
  stageIndex: number;
  /** The Dockerfile range of the instruction (of the FROM for a base image): where the op's errors point. */
  range: SourceRange;
}

/** Where a vertex comes from (its stage and instruction). */
export type VertexMeta = Pick<DefinitionVertex, 'stage' | 'stageIndex' | 'range'>;

/** A vertex as a conversion adds it (the digest and metadata are added for it); inputs by index. */
export interface NewVertex {
  name: string;
  explainId?: string;
  inputs: number[];
  op: OpDescription;
}

export interface Definition {
  /** The Dockerfile's name, which the vertices' ranges are in. */
  file: string;
  /** Every vertex, inputs before dependents. */
  vertices: DefinitionVertex[];
  /** Index of the target stage's last vertex (LLB marks it with a last op whose input it is); absent for `FROM scratch` with no layer step. */
  target?: number;
}
