/**
 * The definition: the stage graph turned into a DAG of solver vertices. This
 * module is the only place where Dockerfile steps meet worker ops; the solver
 * below it sees opaque vertices, the frontend above it never sees a vertex.
 */
import type { Digest, ImageConfig, SourceRange } from '@tsbuild/core';
import type { ChecksumCache, ContextHashMode, PathMatcher } from '../context/index.js';
import type { ContextSummer } from '../context/watch/index.js';
import type { StageGraph } from '@tsbuild/dockerfile';
import type { PlannedVertex } from '../api/events.js';
import type { Vertex } from '../solver/index.js';
import type { ImageSourceSpec } from '../worker/image-source-op.js';
import type { SecretProvider } from '../worker/secrets.js';
import type { Worker } from '../worker/worker.js';

/** A base or `--from` image resolved from the store for the target platform. */
export interface ResolvedBase extends ImageSourceSpec {
  config: ImageConfig;
}

/** A local directory `--build-context`, filtered by its own .dockerignore. */
export interface LocalSource {
  name: string;
  dir: string;
  ignore: PathMatcher | undefined;
}

export interface DefinitionOptions {
  graph: StageGraph;
  /** The Dockerfile's name in explain ids and errors. */
  file: string;
  /** Image refs as written in the Dockerfile → resolved image. */
  images: ReadonlyMap<string, ResolvedBase>;
  /** Image refs as written → a local directory `--build-context` (its tree is the source). */
  locals?: ReadonlyMap<string, LocalSource> | undefined;
  worker: Worker;
  contextDir: string;
  ignore: PathMatcher | undefined;
  hashMode: ContextHashMode;
  checksums?: ChecksumCache | undefined;
  /** Checksums context sources (default: checksumContext with `checksums`); the build passes its ContextSession's, which may answer from the context watcher's memo. */
  contextSums?: ContextSummer | undefined;
  secrets: SecretProvider;
  ssh: (id: string) => string | undefined;
  network: 'host' | 'none';
  allowInsecure: boolean;
  /** SOURCE_DATE_EPOCH: layers are packed with clamped mtimes, so it is part of every layer step's key. */
  sourceDateEpoch?: number | undefined;
}

/** Where a vertex comes from, for the plan, events and --no-cache-filter. */
export interface VertexMeta {
  stage: string;
  stageIndex: number;
  range?: SourceRange;
}

export interface Definition {
  /** The target stage's last vertex; undefined for `FROM scratch` with no layer step. */
  target: Vertex | undefined;
  /** Every vertex, inputs before dependents. */
  vertices: Vertex[];
  meta: Map<Vertex, VertexMeta>;
  plan: PlannedVertex[];
}

export function plannedOf(v: Vertex, meta: VertexMeta | undefined): PlannedVertex {
  return {
    id: v.digest as Digest,
    name: v.name,
    ...(meta ? { stage: meta.stage } : {}),
    ...(meta?.range ? { range: meta.range } : {}),
    inputs: v.inputs.map((i) => i.digest),
  };
}
