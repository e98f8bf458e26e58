/**
 * `build(options, deps)`: one Dockerfile build, end to end —
 *   load (Dockerfile, .dockerignore, stage graph, base images from the store or pulled)
 *   → definition (plain data) → resolve (the worker's ops, with the build's
 *   contexts, secrets and ssh) → solve (cache, concurrency, cancellation)
 *   → export (image config + manifest, tags, archives, rootfs outputs).
 * Emits `build.plan` first, then the solver's vertex events, export events,
 * and `build.completed` / `build.failed`. The first failure cancels the rest
 * and rejects with a DockerfileError at the failing instruction (its cause
 * chain holds the VertexError and the ExecError); an abort rejects with
 * CanceledError after running containers are killed and mounts removed.
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { DockerfileError, isCanceled, throwIfAborted } from '@tsbuild/core';
import { createMemoryChecksumCache, openChecksumCache } from '../context/index.js';
import { ContextSession, ContextWatchClient } from '../context/watch/index.js';
import { buildDefinition } from '../definition/build-definition.js';
import { checkDefinition } from '../definition/check.js';
import { planOf } from '../definition/plan.js';
import type { Definition } from '../definition/types.js';
import { openBuildCache, Solver, VertexError } from '../solver/index.js';
import { resolveDefinition, type ContextSource } from '../worker/resolve-op.js';
import { SecretProvider } from '../worker/secrets.js';
import { EMPTY_RESULT, type LayerResult } from '../worker/types.js';
import { Worker } from '../worker/worker.js';
import type { BuildEvent } from './events.js';
import { definitionOptions } from './define.js';
import { layerCompressionOf, runExports } from './exports.js';
import { loadBuild } from './load.js';
import { toBuildEvent } from './solve-events.js';
import type { BuildDeps, BuildOptions, BuildResult, BuildSolver } from './types.js';

/**
 * Seams for tests and debugging, not part of BuildOptions: `definition`
 * receives the build's definition and returns the one to solve — which is
 * checked as a definition from outside is (checkDefinition) — e.g. the same
 * definition after a JSON round trip.
 */
export interface BuildSeams {
  definition?: (definition: Definition) => unknown;
}

export async function build(options: BuildOptions, deps: BuildDeps, seams: BuildSeams = {}): Promise<BuildResult> {
  const started = performance.now();
  const { signal } = options;
  const emit = (event: BuildEvent): void => {
    try {
      options.onEvent?.(event);
    } catch {
      // a listener's failure must not fail the build
    }
  };
  const root = deps.store.root;
  let worker: Worker | undefined;
  // Steps this build started and that have not settled; with a shared solver another build may still wait on one after this build failed (flight.ts).
  const sharedWork = new Set<Promise<void>>();
  try {
    throwIfAborted(signal);
    // The context watcher is found (or started) first, from the context's second build on (a first build only records itself): the build that starts it gets its whole run to get ready.
    const watch = ContextWatchClient.forBuild({ contextDir: resolve(options.context), storeRoot: root, env: options.env ?? process.env, enabled: options.contextWatch });
    watch?.start();
    const loaded = await loadBuild(options, deps.store, { signal, puller: deps.puller, emit });
    for (const warning of loaded.warnings) emit({ type: 'warning', time: Date.now(), warning });
    const compression = layerCompressionOf(options);
    worker = await Worker.open({
      store: deps.store, executor: deps.executor, compression,
      flavor: options.mediaTypes, sourceDateEpoch: options.sourceDateEpoch, signal,
    });
    const session = new ContextSession({
      storeRoot: root, contextDir: loaded.contextDir, watch: loaded.contextDir === watch?.contextDir ? watch : undefined,
      openCache: () => openChecksumCache({ dir: join(root, 'cache', 'checksums'), contextDir: loaded.contextDir, ...(signal ? { signal } : {}) }),
    });
    const env = options.env ?? process.env;
    const made = buildDefinition(definitionOptions(options, loaded));
    const definition = seams.definition ? checkDefinition(seams.definition(made)) : made;
    emit({ type: 'build.plan', time: Date.now(), vertices: planOf(definition) });
    const hashMode = options.contextHash ?? 'exact';
    const resolved = resolveDefinition(definition, {
      worker,
      context: { dir: loaded.contextDir, ignore: loaded.ignore, hashMode, checksums: createMemoryChecksumCache(), sum: session.checksum },
      namedContexts: new Map([...loaded.locals.values()].map((l): [string, ContextSource] => [l.name, { dir: l.dir, ignore: l.ignore, hashMode, checksums: createMemoryChecksumCache() }])),
      secrets: new SecretProvider(options.secrets ?? [], env, join(root, 'cache', 'secret-salt')),
      ssh: (id) => {
        const spec = options.ssh?.find((s) => s.id === id);
        return spec ? (spec.paths?.[0] ?? env.SSH_AUTH_SOCK) : undefined;
      },
    });

    let result: LayerResult = EMPTY_RESULT;
    if (resolved.target) {
      const solver = deps.solver ?? openSolver(root, options);
      const solved = await solver.solve(resolved.target, {
        ...(signal ? { signal } : {}), noCache: options.noCache === true, onEvent: (e) => emit(toBuildEvent(e)),
        onWorkStarted: (work) => {
          sharedWork.add(work);
          void work.then(() => sharedWork.delete(work));
        },
      });
      result = solved.result;
    }
    await session.save();
    const hold = worker.hold.bind(worker);
    const exported = await runExports({ options, store: deps.store, loaded, result, emit, compression, hold });
    const tags = exported.tags;
    emit({ type: 'build.completed', time: Date.now(), durationMs: performance.now() - started, digest: exported.manifest.digest, tags });
    return { digest: exported.manifest.digest, configDigest: exported.configDigest, tags, metadata: exported.metadata, warnings: loaded.warnings };
  } catch (err) {
    const error = located(err);
    emit({ type: 'build.failed', time: Date.now(), durationMs: performance.now() - started, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    if (sharedWork.size === 0) await worker?.close();
    else {
      // A step another build shares runs on this build's worker (its lease, snapshots): released once the step ends.
      const w = worker!;
      void Promise.all(sharedWork).then(() => w.close());
    }
  }
}

/**
 * A solver over the store's build cache. A build makes its own unless its deps
 * carry one: builds on one Solver merge identical in-flight steps (flight.ts),
 * which is how a build server runs a step once for all its clients. The
 * bounds are `maxParallelism` / `maxContainers` (defaults: cores × 2).
 */
export function openSolver(root: string, limits: Pick<BuildOptions, 'maxParallelism' | 'maxContainers'> = {}): BuildSolver {
  const io = limits.maxParallelism ?? availableParallelism() * 2;
  return new Solver<LayerResult>({ cache: openBuildCache<LayerResult>(root), limits: { io, exec: Math.max(1, limits.maxContainers ?? io) } });
}

/** A vertex failure whose cause is located in the Dockerfile becomes a DockerfileError there, named after the step. */
function located(err: unknown): unknown {
  if (isCanceled(err) || !(err instanceof VertexError)) return err;
  const cause = err.cause;
  if (!(cause instanceof DockerfileError)) return err;
  return new DockerfileError(err.message, cause.file, cause.range, { code: cause.code, cause: err });
}

