/**
 * `build(options, deps)`: one Dockerfile build, end to end —
 *   load (Dockerfile, .dockerignore, stage graph, base images from the store or pulled)
 *   → definition (plain data) → resolve (the worker's ops, with the build's
 *   contexts, secrets and ssh) → solve (cache, concurrency, cancellation)
 *   → export (image config + manifest, tags, archives, rootfs outputs)
 *   → remote cache exports (`cacheTo`; `cacheFrom` caches are imported before the solve).
 * Emits `build.plan` first, then the solver's vertex events, export events,
 * and `build.completed` / `build.failed`. The first failure cancels the rest
 * and rejects with a DockerfileError at the failing instruction (its cause
 * chain holds the VertexError and the ExecError); an abort rejects with
 * CanceledError after running containers are killed and mounts removed.
 *
 * Multi-platform (`platform: 'linux/amd64,linux/arm64'`): one load and one
 * definition per target platform, solved concurrently on one Solver, so a
 * vertex that is the same for all (a `FROM --platform=$BUILDPLATFORM` stage,
 * the context) has one key and runs once; the export writes each platform's
 * image and an index naming them (exports.ts runMultiPlatformExports).
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { DockerfileError, formatPlatform, isCanceled, parsePlatform, throwIfAborted } from '@tsbuild/core';
import { createMemoryChecksumCache, openChecksumCache } from '../context/index.js';
import { ContextSession, ContextWatchClient } from '../context/watch/index.js';
import { buildDefinition } from '../definition/build-definition.js';
import { checkDefinition } from '../definition/check.js';
import { planOf, type PlannedVertex } from '../definition/plan.js';
import type { Definition } from '../definition/types.js';
import type { CacheConfig } from '../remote-cache/format.js';
import { openBuildCache, Solver, VertexError, type SolveEvent, type SolveResult } from '../solver/index.js';
import { resolveDefinition, type ContextSource } from '../worker/resolve-op.js';
import { SecretProvider } from '../worker/secrets.js';
import { EMPTY_RESULT, type LayerResult } from '../worker/types.js';
import { Worker } from '../worker/worker.js';
import type { BuildEvent, BuildWarning } from './events.js';
import { createBaseImageResolver } from './base-images.js';
import { definitionOptions } from './define.js';
import { checkMultiPlatformOutputs, layerCompressionOf, runExports, runMultiPlatformExports } from './exports.js';
import { loadBuild } from './load.js';
import { RemoteCaches } from './remote-caches.js';
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
  const caches = new RemoteCaches(options, deps, emit);
  // Steps this build started and that have not settled; with a shared solver another build may still wait on one after this build failed (flight.ts).
  const sharedWork = new Set<Promise<void>>();
  try {
    throwIfAborted(signal);
    const platforms = targetPlatforms(options);
    const multi = platforms.length > 1;
    if (multi) checkMultiPlatformOutputs(options);
    const contextDir = resolve(options.context);
    // The context watcher is found (or started) first, from the context's second build on (a first build only records itself): the build that starts it gets its whole run to get ready.
    const watch = ContextWatchClient.forBuild({ contextDir, storeRoot: root, env: options.env ?? process.env, enabled: options.contextWatch });
    watch?.start();
    // One load per target platform; base images named by several (a `FROM --platform=$BUILDPLATFORM` stage's) resolve once.
    const bases = createBaseImageResolver({ store: deps.store, mode: options.pull ?? 'missing', puller: deps.puller, emit, signal });
    // Settled together, so a failed load leaves no other one (and its pulls) running unobserved.
    const loaded = await Promise.allSettled(platforms.map((platform) =>
      loadBuild(platform === undefined ? options : { ...options, platform }, deps.store, { signal, puller: deps.puller, emit, bases })));
    const loads = loaded.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
    const warnings = uniqueWarnings(loads.flatMap((l) => l.warnings));
    for (const warning of warnings) emit({ type: 'warning', time: Date.now(), warning });
    const compression = layerCompressionOf(options);
    worker = await Worker.open({
      store: deps.store, executor: deps.executor, compression,
      flavor: options.mediaTypes, sourceDateEpoch: options.sourceDateEpoch, signal,
    });
    const session = new ContextSession({
      storeRoot: root, contextDir, watch: contextDir === watch?.contextDir ? watch : undefined,
      openCache: () => openChecksumCache({ dir: join(root, 'cache', 'checksums'), contextDir, ...(signal ? { signal } : {}) }),
    });
    const env = options.env ?? process.env;
    const definitions = loads.map((loaded) => {
      const made = buildDefinition({ ...definitionOptions(options, loaded), ...(multi ? { platformPrefix: true } : {}) });
      return seams.definition ? checkDefinition(seams.definition(made)) : made;
    });
    emit({ type: 'build.plan', time: Date.now(), vertices: mergedPlan(definitions) });
    const hashMode = options.contextHash ?? 'exact';
    // Shared by every platform's definition: the context is hashed once, secrets and ssh are the build's.
    const context = { dir: contextDir, ignore: loads[0]!.ignore, hashMode, checksums: createMemoryChecksumCache(), sum: session.checksum };
    const secrets = new SecretProvider(options.secrets ?? [], env, join(root, 'cache', 'secret-salt'));
    const ssh = (id: string): string | undefined => {
      const spec = options.ssh?.find((s) => s.id === id);
      return spec ? (spec.paths?.[0] ?? env.SSH_AUTH_SOCK) : undefined;
    };
    const io = options.maxParallelism ?? availableParallelism() * 2;
    const local = openBuildCache<LayerResult>(root);
    const cache = await caches.open(local, worker, definitions);
    const held = worker;
    // A hit is leased before it is used, then confirmed still recorded: a concurrent cache GC
    // (cache-gc/prune-cache.ts) deletes records before its store mark, so either the record is
    // gone now (a miss) or the mark sees this lease.
    const claim = async (record: { key: string; blobs: string[]; snapshots: string[] }) => {
      await held.hold(record);
      return cache.has(record.key);
    };
    // One solver for all platforms: a vertex whose key is the same for several (the context, a build-platform stage) runs once (solver.ts, flight.ts).
    // A server shares one solver between its builds (deps.solver, over the store's own cache: imported remote caches are this build's only).
    const solver = deps.solver && cache === local ? deps.solver : new Solver<LayerResult>({ cache, limits: { io, exec: Math.max(1, options.maxContainers ?? io) } });
    const report = reporterOfShared(emit);
    const solves = await solveAll(definitions.map((definition, i) => async (solveSignal: AbortSignal): Promise<SolveResult<LayerResult> | undefined> => {
      const loaded = loads[i]!;
      const resolved = resolveDefinition(definition, {
        worker: worker!, context, secrets, ssh,
        namedContexts: new Map([...loaded.locals.values()].map((l): [string, ContextSource] => [l.name, { dir: l.dir, ignore: l.ignore, hashMode, checksums: createMemoryChecksumCache() }])),
      });
      if (!resolved.target) return undefined;
      return solver.solve(resolved.target, {
        signal: solveSignal, claim, noCache: options.noCache === true, onEvent: (e) => report(i, e),
        onWorkStarted: (work) => {
          sharedWork.add(work);
          void work.then(() => sharedWork.delete(work));
        },
      });
    }), signal);
    const results: LayerResult[] = [];
    let inlineCache: CacheConfig | undefined;
    for (const solved of solves) {
      if (!solved) results.push(EMPTY_RESULT);
      else {
        const done = await caches.solved(solved, cache, compression);
        results.push(done.result);
        // The inline cache rides in a single image's config (a multi-platform index has none: see caches.solved).
        if (!multi) inlineCache = done.inlineCache;
      }
    }
    await session.save();
    const hold = worker.hold.bind(worker);
    const exported = multi
      ? await runMultiPlatformExports({ options, store: deps.store, builds: loads.map((loaded, i) => ({ loaded, result: results[i]! })), emit, compression, hold })
      : await runExports({ options, store: deps.store, loaded: loads[0]!, result: results[0]!, emit, compression, hold, inlineCache });
    await caches.export(solves.filter((x): x is SolveResult<LayerResult> => x !== undefined), cache, definitions, hold);
    const tags = exported.tags;
    emit({ type: 'build.completed', time: Date.now(), durationMs: performance.now() - started, digest: exported.manifest.digest, tags });
    return { digest: exported.manifest.digest, configDigest: exported.configDigest, tags, metadata: exported.metadata, warnings };
  } catch (err) {
    const error = located(err);
    emit({ type: 'build.failed', time: Date.now(), durationMs: performance.now() - started, message: error instanceof Error ? error.message : String(error) });
    throw error;
  } finally {
    await caches.close();
    if (sharedWork.size === 0) await worker?.close();
    else {
      // A step another build shares runs on this build's worker (its lease, snapshots): released once the step ends.
      const w = worker!;
      void Promise.all(sharedWork).then(() => w.close());
    }
  }
}

/**
 * The platforms `options.platform` names (`linux/amd64,linux/arm64`), each
 * once; `[undefined]` (the host's) when unset. As in BuildKit's dockerui
 * (config.go), more than one makes the build multi-platform.
 */
function targetPlatforms(options: BuildOptions): Array<string | undefined> {
  if (options.platform === undefined) return [undefined];
  const names = options.platform.split(',').map((p) => p.trim()).filter(Boolean);
  const seen = new Map<string, string>();
  for (const name of names) seen.set(formatPlatform(parsePlatform(name)), name);
  return seen.size === 0 ? [undefined] : [...seen.values()];
}

/**
 * Solves each platform's target concurrently (BuildKit's dockerui Client.Build
 * runs its BuildFunc per platform in one errgroup): the first failure cancels
 * the others, and every solve has settled before this returns or throws.
 */
async function solveAll<T>(solves: Array<(signal: AbortSignal) => Promise<T>>, signal: AbortSignal | undefined): Promise<T[]> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let first: { error: unknown } | undefined;
  try {
    const settled = await Promise.allSettled(solves.map((solve) => solve(controller.signal).catch((error: unknown) => {
      first ??= { error };
      controller.abort(error);
      throw error;
    })));
    if (first) throw first.error;
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Forwards solver events as build events, a vertex's from one solve only: a vertex several platforms share
 * (same digest) is reported by every solve waiting on it, and its progress and logs should show once.
 */
function reporterOfShared(emit: (e: BuildEvent) => void): (solve: number, e: SolveEvent) => void {
  const owner = new Map<string, number>();
  return (solve, e) => {
    const first = owner.get(e.vertex.digest);
    if (first === undefined) owner.set(e.vertex.digest, solve);
    else if (first !== solve) return;
    emit(toBuildEvent(e));
  };
}

/** One plan for all platforms: a vertex they share (same digest) is listed once. */
function mergedPlan(definitions: Definition[]): PlannedVertex[] {
  const seen = new Map<string, PlannedVertex>();
  for (const d of definitions) for (const v of planOf(d)) if (!seen.has(v.id)) seen.set(v.id, v);
  return [...seen.values()];
}

function uniqueWarnings(warnings: BuildWarning[]): BuildWarning[] {
  const seen = new Set<string>();
  return warnings.filter((w) => {
    const key = JSON.stringify(w);
    return !seen.has(key) && (seen.add(key), true);
  });
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

