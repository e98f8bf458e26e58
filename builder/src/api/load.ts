/**
 * Loading a build: the Dockerfile (a path or text), the .dockerignore that
 * applies, and the stage graph with its base images resolved from the store.
 *
 * The graph is built twice: the first pass names the images the reachable
 * stages use (FROM, COPY --from, RUN --mount from=); they are resolved for
 * the target platform; the second pass gets their configs, so the bases'
 * ENV, WORKDIR, USER… and ONBUILD triggers apply. A missing image is a
 * DockerfileError at the instruction that names it (there is no pull yet).
 * `--build-context`s replace stages and image names first (named-contexts.ts).
 */
import { isAbsolute, relative, resolve } from 'node:path';
import {
  DockerfileError, InvalidArgumentError, formatPlatform, hostPlatform, isNotFound, normalizeReference, parsePlatform, readUserFile, throwIfAborted,
  type Platform, type SourceRange,
} from '@tsbuild/core';
import { resolveImage, type Store } from '@tsbuild/store';
import { createMatcher, readDockerignore, selectIgnoreFile, type PatternMatcher, parseInstructions, stageGraphFromInstructions, type StageGraph } from '@tsbuild/dockerfile';
import type { ResolvedBase } from '../definition/types.js';
import type { BuildWarning } from './events.js';
import type { BuildOptions } from './types.js';
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

export async function loadBuild(options: BuildOptions, store: Store, { signal }: { signal?: AbortSignal | undefined }): Promise<LoadedBuild> {
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
  for (const [ref, { range, platform: p }] of imageRefs(first)) {
    throwIfAborted(signal);
    const named = lookupContext(ref, contexts, placeholders);
    if (named?.kind === 'local') locals.set(ref, await openLocalContext(named, p));
    else if (named?.kind === 'oci-layout') images.set(ref, await resolveLayoutBase(store, named, p, signal));
    else images.set(ref, await resolveBase(store, named?.ref ?? ref, p, file, range, signal));
  }
  const graph = stageGraphFromInstructions(parsed, { ...graphOptions, baseImageConfig: (ref) => images.get(ref)?.config ?? locals.get(ref)?.config });
  const warnings: BuildWarning[] = graph.warnings.map((w) => ({ rule: w.rule, message: w.message, file, range: w.range, ...(w.url ? { url: w.url } : {}) }));
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

async function resolveBase(store: Store, ref: string, platform: Platform, file: string, range: SourceRange, signal: AbortSignal | undefined): Promise<ResolvedBase> {
  let record;
  try {
    record = await store.images.get(ref);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    throw new DockerfileError(`image "${ref}" not found in the store (tsbuild import or tsbuild load it; pulling comes with the registry client)`, file, range, {
      code: 'BUILD_BASE_IMAGE_NOT_FOUND',
      cause: err,
    });
  }
  const resolved = await resolveImage(store.content, record.target, { platform, ...(signal ? { signal } : {}) });
  return {
    ref: normalizeReference(ref),
    manifestDigest: resolved.manifestDescriptor.digest,
    platform: formatPlatform(platform),
    layers: resolved.manifest.layers,
    diffIDs: resolved.config.rootfs.diff_ids,
    config: resolved.config,
  };
}
