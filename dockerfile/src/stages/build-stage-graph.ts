/**
 * `buildStageGraph`: typed instructions → the stage graph (BuildKit
 * dockerfile2llb's `toDispatchState` + `dispatch`, without LLB). Pure: the
 * same options give the same graph; base image configs come in through the
 * optional `baseImageConfig` lookup.
 *
 * Every stage is dispatched (so the graph can be printed whole), but only
 * errors in stages the target reaches are thrown — as in BuildKit, a broken
 * stage that never runs does not fail the build.
 */
import { DockerfileError, hostPlatform, rangeOf } from '@tsbuild/core';
import { parseInstructions, type ParsedInstructions, type Stage } from '../instructions/index.js';
import { StageErrorCode } from './dispatch-context.js';
import { dispatchStage, type Run } from './dispatch-stage.js';
import { Expander } from './expand.js';
import { globalScope, platformArgs, PROXY_ARGS } from './global-scope.js';
import { reachableStages } from './reachability.js';
import { namedStage } from './stage-lookup.js';
import { validateStageNames } from './stage-names.js';
import type { BuildStageGraphOptions, StageGraph } from './types.js';

export { DEFAULT_PATH_ENV } from './dispatch-stage.js';

/** Parses `options.dockerfile` and converts it (see `stageGraphFromInstructions`). */
export function buildStageGraph(options: BuildStageGraphOptions): StageGraph {
  return stageGraphFromInstructions(parseInstructions(options.dockerfile, { file: options.file ?? 'Dockerfile' }), options);
}

export function stageGraphFromInstructions(parsed: ParsedInstructions, options: Omit<BuildStageGraphOptions, 'dockerfile'> = {}): StageGraph {
  const file = parsed.file;
  if (parsed.stages.length === 0) {
    throw new DockerfileError('the Dockerfile has no stage: it needs at least one FROM', file, rangeOf(1, 0, 1, 0), { code: StageErrorCode.EmptyFrom });
  }
  const warnings = [...parsed.warnings];
  validateStageNames(parsed.stages, warnings);
  const targetIndex = resolveTarget(options.target, parsed.stages, file);
  const host = hostPlatform();
  const platform = options.platform ?? { build: host, target: host };
  const expander = new Expander({ file, escapeToken: parsed.escapeToken, warnings });
  const buildArgs = new Map(Object.entries(options.buildArgs ?? {}));
  const globalUsed = new Set<string>();
  const targetName = options.target || (parsed.stages.at(-1)!.name ?? '');
  const automatic = platformArgs(platform.build, platform.target, targetName, buildArgs);
  for (const [k] of automatic) if (buildArgs.has(k)) globalUsed.add(k);
  const scope = globalScope(parsed.metaArgs, automatic, buildArgs, globalUsed, expander);
  const run: Run = { parsed, options, expander, scope, buildArgs, usedBy: new Map(), edges: [], nodes: [], envKnown: [], finalStates: [], targetPlatform: platform.target };
  for (const name of globalUsed) run.usedBy.set(name, new Set([-1]));

  const errors = new Map<number, DockerfileError>();
  for (const stage of parsed.stages) {
    try {
      run.nodes.push(dispatchStage(run, stage, warnings));
    } catch (err) {
      if (!(err instanceof DockerfileError)) throw err;
      errors.set(stage.index, err);
      run.nodes.push({
        index: stage.index, ...(stage.name ? { name: stage.name } : {}), base: { kind: 'scratch' }, platform: platform.target,
        fromRange: stage.from.range, steps: [], finalConfig: {}, history: [],
      });
    }
  }
  const reachable = reachableStages(targetIndex, run.edges, file, run.nodes.map((n) => n.name));
  for (const i of reachable) {
    const err = errors.get(i);
    if (err) throw err;
  }

  const reach = new Set(reachable);
  const consumed = (name: string) => [...(run.usedBy.get(name) ?? [])].some((i) => i === -1 || reach.has(i));
  const unusedBuildArgs = [...buildArgs.keys()].filter((k) => !consumed(k) && !(PROXY_ARGS as readonly string[]).includes(k)).sort();
  if (unusedBuildArgs.length) {
    warnings.push({ rule: 'UnusedBuildArgs', message: `One or more build-args [${unusedBuildArgs.join(' ')}] were not consumed`, range: rangeOf(1, 0, 1, 0) });
  }
  const inUse = new Map<string, string>();
  for (const inst of parsed.metaArgs) for (const def of inst.args) {
    const v = scope.values.get(def.name);
    if (v !== undefined) inUse.set(def.name, v);
  }
  for (const [k, v] of buildArgs) if (consumed(k) || (PROXY_ARGS as readonly string[]).includes(k)) inUse.set(k, v);
  return {
    file, stages: run.nodes, target: run.nodes[targetIndex]!, reachable, edges: run.edges, buildArgs: [...inUse],
    warnings: warnings.map((w, i) => [w, i] as const).sort((a, b) => a[0].range.start.line - b[0].range.start.line || a[1] - b[1]).map(([w]) => w),
    proxyEnv: [...buildArgs].filter(([k]) => (PROXY_ARGS as readonly string[]).includes(k)),
    unusedBuildArgs,
  };
}

function resolveTarget(target: string | undefined, stages: readonly Stage[], file: string): number {
  if (target === undefined || target === '') return stages.length - 1;
  // BuildKit resolveTarget: findStateByName — the last stage of that name; no indexes.
  const i = namedStage(target, stages);
  if (i === undefined) throw new DockerfileError(`target stage ${JSON.stringify(target)} could not be found`, file, undefined, { code: StageErrorCode.UnknownTarget });
  return i;
}

