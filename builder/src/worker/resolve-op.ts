/**
 * Definition → runnable solver vertices: each vertex's op description
 * (definition/ops.ts) resolved to the worker op that runs it, given what it
 * needs from the host — the worker (store, snapshotter, executor), the build
 * context and local `--build-context`s (directory, .dockerignore, checksum
 * cache), the secret provider and the SSH socket lookup. BuildKit's
 * worker/base/worker.go `Worker.ResolveOp` does the same for a `pb.Op`: a
 * switch on the op type, each case constructing the op with the worker's
 * resources. Errors of an op are located at its vertex's Dockerfile range.
 *
 * Descriptions are trusted to be well formed (a definition from outside is
 * checked first: definition/check.ts).
 */
import { FailedPreconditionError, type SourceRange } from '@tsbuild/core';
import { checksumContext, type ChecksumCache, type ContextHashMode, type PathMatcher } from '../context/index.js';
import type { ContextSummer } from '../context/watch/index.js';
import type { Definition, DefinitionVertex } from '../definition/types.js';
import type { OpDescription } from '../definition/ops.js';
import type { Op, Vertex } from '../solver/index.js';
import { ExecOp } from './exec-op.js';
import { FileOp, type FileEnv } from './file-op.js';
import { GitSourceOp } from './git-source-op.js';
import { HttpSourceOp } from './http-source-op.js';
import { ImageSourceOp } from './image-source-op.js';
import { localSourceOp } from './local-source-op.js';
import { MergeOp } from './merge-op.js';
import type { SecretProvider } from './secrets.js';
import type { LayerResult } from './types.js';
import type { Worker } from './worker.js';

/** A directory ops read from: the build context, or a local `--build-context`. */
export interface ContextSource {
  dir: string;
  /** Its .dockerignore. */
  ignore: PathMatcher | undefined;
  hashMode: ContextHashMode;
  checksums: ChecksumCache;
  /** Checksums its sources (default: checksumContext with `checksums`); the build's ContextSession may answer from the context watcher's memo. */
  sum?: ContextSummer | undefined;
}

/** What resolving needs besides the definition: the host's side of one build. */
export interface OpRuntime {
  worker: Worker;
  /** The build context: what `from: { context: true }` of a file action or bind mount reads. */
  context: ContextSource;
  /** Local `--build-context`s by name: what a `local` source reads. */
  namedContexts?: ReadonlyMap<string, ContextSource> | undefined;
  secrets: SecretProvider;
  /** An SSH id → the agent socket forwarded for it. */
  ssh: (id: string) => string | undefined;
}

export interface ResolvedDefinition {
  /** One runnable vertex per definition vertex, at the same index. */
  vertices: Vertex<LayerResult>[];
  target: Vertex<LayerResult> | undefined;
}

export function resolveDefinition(definition: Definition, rt: OpRuntime): ResolvedDefinition {
  const vertices: Vertex<LayerResult>[] = [];
  for (const v of definition.vertices) {
    const inputs = v.inputs.map((i) => vertices[i]!);
    const op = resolveOp(v.op, { rt, file: definition.file, range: v.range, inputs });
    vertices.push(runnable(v, inputs, op));
  }
  return { vertices, target: definition.target === undefined ? undefined : vertices[definition.target] };
}

export interface ResolveAt {
  rt: OpRuntime;
  file: string;
  range: SourceRange;
  /** The vertex's inputs, resolved. */
  inputs: Vertex<LayerResult>[];
}

function resolveOp(d: OpDescription, at: ResolveAt): Op<LayerResult> {
  const { rt, file, range } = at;
  switch (d.op) {
    case 'source':
      return sourceOp(d, at);
    case 'local': {
      const { op: _, context: name, ...spec } = d;
      const context = rt.namedContexts?.get(name);
      if (!context) throw new FailedPreconditionError(`the build has no local context named "${name}"`, { code: 'BUILD_CONTEXT_NOT_FOUND' });
      return localSourceOp(new FileOp(rt.worker, spec, fileEnv(context, file, range)));
    }
    case 'exec': {
      const { op: _, proxyEnv = [], ...spec } = d;
      const sum = summer(rt.context);
      const contextChecksum = async (source: string, signal: AbortSignal) =>
        (await sum({ contextDir: rt.context.dir, patterns: [source || '.'], ignore: rt.context.ignore, mode: rt.context.hashMode, signal })).files;
      return new ExecOp(rt.worker, spec, { contextDir: rt.context.dir, secrets: rt.secrets, ssh: rt.ssh, proxyEnv, contextChecksum, file, range });
    }
    case 'file': {
      const { op: _, ...spec } = d;
      // A file op on a file op may build its layer beside it (see FileOp).
      const parent = spec.hasParent ? at.inputs[0]?.op : undefined;
      return new FileOp(rt.worker, spec, fileEnv(rt.context, file, range), parent instanceof FileOp ? parent : undefined);
    }
    case 'merge':
      return new MergeOp(rt.worker, d.hasParent);
  }
  const unknown: never = d;
  throw new FailedPreconditionError(`no op for the description ${JSON.stringify(unknown)}`, { code: 'DEFINITION_INVALID' });
}

function sourceOp(d: Extract<OpDescription, { op: 'source' }>, { rt, file, range }: ResolveAt): Op<LayerResult> {
  switch (d.source) {
    case undefined: {
      const { op: _, source: _source, ...spec } = d;
      return new ImageSourceOp(rt.worker, spec);
    }
    case 'http': {
      const { op: _, source: _source, ...spec } = d;
      return new HttpSourceOp(rt.worker, spec, { file, range });
    }
    case 'git': {
      const { op: _, source: _source, ...spec } = d;
      return new GitSourceOp(rt.worker, spec, { file, range });
    }
  }
}

function runnable(v: DefinitionVertex, inputs: Vertex<LayerResult>[], op: Op<LayerResult>): Vertex<LayerResult> {
  return {
    digest: v.digest,
    name: v.name,
    inputs,
    op,
    resourceClass: v.op.op === 'exec' ? 'exec' : 'io',
    ...(v.explainId === undefined ? {} : { explainId: v.explainId }),
    ...(v.ignoreCache ? { ignoreCache: true } : {}),
  };
}

function fileEnv(context: ContextSource, file: string, range: SourceRange): FileEnv {
  return { contextDir: context.dir, ignore: context.ignore, hashMode: context.hashMode, checksums: context.checksums, sum: context.sum, file, range };
}

function summer(context: ContextSource): ContextSummer {
  return context.sum ?? ((x) => checksumContext({ ...x, cache: x.cache ?? context.checksums }));
}
