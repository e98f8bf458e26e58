/**
 * Loading a build: the Dockerfile (a path or text), the .dockerignore that
 * applies, and the stage graph with its base images resolved from the store.
 *
 * The graph is built twice: the first pass names the images the reachable
 * stages use (FROM, COPY --from, RUN --mount from=); they are resolved for
 * the target platform; the second pass gets their configs, so the bases'
 * ENV, WORKDIR, USER… and ONBUILD triggers apply. Images come from the
 * store or are pulled into it (base-images.ts: the pull mode, one pull per
 * image, the `load metadata` progress); all are resolved concurrently. A
 * missing image is a DockerfileError at the instruction that names it.
 * `--build-context`s replace stages and image names first (named-contexts.ts).
 */
import { isAbsolute, relative, resolve } from 'node:path';
import {
  InvalidArgumentError, hostPlatform, parsePlatform, readUserFile, throwIfAborted, type Platform, type SourceRange,
} from '@tsbuild/core';
import type { Store } from '@tsbuild/store';
import { createMatcher, readDockerignore, selectIgnoreFile, type PatternMatcher, parseInstructions, stageGraphFromInstructions, type StageGraph } from '@tsbuild/dockerfile';
import { baseImagePlatformWarnings } from './base-platform.js';
import type { ResolvedBase } from '../definition/types.js';
import { createBaseImageResolver, type BaseImageResolver } from './base-images.js';
import type { BuildEvent, BuildWarning } from './events.js';
import type { BuildOptions, ImagePuller } from './types.js';
import { lookupContext, openLocalContext, parseNamedContexts, replaceStages, resolveLayoutBase, type LocalContext } from './named-contexts.js';

export interface LoadedBuild {
  contextDir: string;
  /** The Dockerfile's name in messages and explain ids (relative to the context when inside it). */
  file: string;
  platform: Platform;
  graph: StageGraph;
  images: Map<string, ResolvedBase>;
  /** Image refs of the Dockerfile that name a local directory `--build-context`. */
  locals: Map<string, LocalContext>;
  ignore: PatternMatcher | undefined;
  warnings: BuildWarning[];
}

export interface LoadOptions {
  signal?: AbortSignal | undefined;
  /** Pulls what the store lacks (BuildDeps.puller); without it, the store only. */
  puller?: ImagePuller | undefined;
  emit?: (e: BuildEvent) => void;
  /** A resolver shared by several loads (a multi-platform build's): an image they name for the same platform resolves once. */
  bases?: BaseImageResolver | undefined;
}

export async function loadBuild(options: BuildOptions, store: Store, { signal, puller, emit, bases: shared }: LoadOptions): Promise<LoadedBuild> {
  const contextDir = resolve(options.context);
  const contexts = parseNamedContexts(options.buildContexts ?? {});
  if (options.outputs?.some((o) => o.type === 'image' && o.push)) {
    throw new InvalidArgumentError('push is not supported yet (it comes with the registry client)', { code: 'BUILD_UNSUPPORTED' });
  }
  const dockerfilePath = resolve(options.dockerfile ?? resolve(contextDir, 'Dockerfile'));
  const rel = relative(contextDir, dockerfilePath);
  const file = rel.startsWith('..') || isAbsolute(rel) ? dockerfilePath : rel;
  const text = options.dockerfileText ?? (await readUserFile(dockerfilePath, 'the Dockerfile')).toString('utf8');
  const choice = await selectIgnoreFile(contextDir, dockerfilePath, signal ? { signal } : {});
  const ignore = choice ? createMatcher(readDockerignore((await readUserFile(choice.path, 'the .dockerignore')).toString('utf8'))) : undefined;
  const host = hostPlatform();
  const platform = options.platform ? parsePlatform(options.platform) : host;
  const { parsed, placeholders } = replaceStages(parseInstructions(text, { file }), contexts);
  const graphOptions = {
    file, platform: { build: host, target: platform },
    ...(options.buildArgs ? { buildArgs: options.buildArgs } : {}),
    ...(options.target ? { target: options.target } : {}),
  };
  const first = stageGraphFromInstructions(parsed, graphOptions);
  const images = new Map<string, ResolvedBase>();
  const locals = new Map<string, LocalContext>();
  const bases = shared ?? createBaseImageResolver({ store, mode: options.pull ?? 'missing', puller, emit: emit ?? (() => {}), signal });
  throwIfAborted(signal);
  // Resolved concurrently, settled together (one failed pull leaves none of the others unobserved), kept in Dockerfile order.
  const settled = await Promise.allSettled([...imageRefs(first)].map(async ([ref, { range, platform: p }]) => {
    const named = lookupContext(ref, contexts, placeholders);
    if (named?.kind === 'local') return { ref, local: await openLocalContext(named, p) };
    if (named?.kind === 'oci-layout') return { ref, image: await resolveLayoutBase(store, named, p, signal) };
    return { ref, image: await bases.resolve(named?.ref ?? ref, { platform: p, file, range }) };
  }));
  for (const r of settled) {
    if (r.status === 'rejected') throw r.reason;
    if (r.value.local) locals.set(r.value.ref, r.value.local);
    else if (r.value.image) images.set(r.value.ref, r.value.image);
  }
  const graph = stageGraphFromInstructions(parsed, { ...graphOptions, baseImageConfig: (ref) => images.get(ref)?.config ?? locals.get(ref)?.config });
  const warnings: BuildWarning[] = graph.warnings.map((w) => ({ rule: w.rule, message: w.message, file, range: w.range, ...(w.url ? { url: w.url } : {}) }));
  warnings.push(...baseImagePlatformWarnings(graph, images, file));
  if (graph.unusedBuildArgs.length > 0) {
    warnings.push({ rule: 'UnusedBuildArgs', message: `One or more build-args [${graph.unusedBuildArgs.join(' ')}] were not consumed`, file });
  }
  return { contextDir, file, platform, graph, images, locals, ignore, warnings };
}

/** Image references the reachable stages read, with the range of the first instruction naming each. */
function imageRefs(graph: StageGraph): Map<string, { range: SourceRange; platform: Platform }> {
  const out = new Map<string, { range: SourceRange; platform: Platform }>();
  for (const index of graph.reachable) {
    const stage = graph.stages[index]!;
    const note = (ref: string, range: SourceRange) => out.has(ref) || out.set(ref, { range, platform: stage.platform });
    if (stage.base.kind === 'image') note(stage.base.ref, stage.fromRange);
    for (const step of stage.steps) {
      const e = step.expanded;
      if ((e.kind === 'COPY' || e.kind === 'ADD') && e.from?.kind === 'image') note(e.from.ref, step.range);
      if (e.kind === 'RUN') for (const m of e.mounts) if (m.fromSource?.kind === 'image') note(m.fromSource.ref, step.range);
    }
  }
  return out;
}
