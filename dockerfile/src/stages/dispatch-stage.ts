/**
 * Dispatching one stage: resolve its FROM, seed the state from the base
 * (stage config, known image config or scratch), run the base's ONBUILD
 * triggers, then each instruction through the dispatcher table, recording a
 * state snapshot and history entry per step. Stage references found on the
 * way (`FROM`, `--from`, mount `from=`) become edges.
 */
import { DockerfileError, parseReference, type ContainerConfig, type Platform, type SourceRange } from '@tsbuild/core';
import type { Instruction, ParsedInstructions, Stage } from '../instructions/index.js';
import { envFromSlice, processWord } from '../shell/index.js';
import { expansionEnv, initialState, snapshot, withHistory, type BuildState } from './build-state.js';
import { StageErrorCode, type DispatchContext } from './dispatch-context.js';
import type { Expander } from './expand.js';
import type { GlobalScope } from './global-scope.js';
import { lintWarning } from './lint.js';
import { parseTriggers } from './onbuild-triggers.js';
import { resolveFrom } from './stage-base.js';
import { isStageIndex, namedStage, stageLabel } from './stage-lookup.js';
import { dispatcherFor } from './table.js';
import type { BuildStageGraphOptions, StageEdge, StageGraph, StageNode, Step, StepSource } from './types.js';

/** Docker's default PATH for a container without one (BuildKit sets it on scratch and on base images that lack it). */
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What the stages of one conversion share. */
export interface Run {
  parsed: ParsedInstructions;
  options: Omit<BuildStageGraphOptions, 'dockerfile'>;
  expander: Expander;
  scope: GlobalScope;
  buildArgs: ReadonlyMap<string, string>;
  /** Which stages consumed each build arg (-1: the global scope). */
  usedBy: Map<string, Set<number>>;
  edges: StageEdge[];
  nodes: StageNode[];
  /** Per stage: whether its base environment is known (see BuildState.baseEnvKnown). */
  envKnown: boolean[];
  /** Per stage: its state after its last instruction (a child stage starts from its ARGs and variables). */
  finalStates: Array<BuildState | undefined>;
  targetPlatform: Platform;
}


export function dispatchStage(run: Run, stage: Stage, warnings: StageGraph['warnings']): StageNode {
  const { parsed, expander } = run;
  const file = parsed.file;
  const target = run.targetPlatform;
  const { base, platform } = resolveFrom({
    file, stage, stages: parsed.stages, scope: run.scope, targetPlatform: target, expander, warnings, stagePlatform: (i) => run.nodes[i]?.platform,
  });
  let baseConfig: ContainerConfig;
  let envKnown = true;
  if (base.kind === 'stage') {
    run.edges.push({ from: stage.index, to: base.index, kind: 'from', range: stage.from.imageRange });
    baseConfig = structuredClone(run.nodes[base.index]!.finalConfig);
    envKnown = run.envKnown[base.index] ?? false;
  } else if (base.kind === 'image') {
    const image = run.options.baseImageConfig?.(base.ref);
    envKnown = image !== undefined;
    baseConfig = structuredClone(image?.config ?? {});
    // BuildKit makes sure PATH is always set: a base image without one gets the default in the config too.
    if (image !== undefined && !(baseConfig.Env ?? []).some((e) => e.startsWith('PATH='))) baseConfig.Env = [...(baseConfig.Env ?? []), DEFAULT_PATH_ENV];
  } else {
    // BuildKit's empty image (frontend/dockerfile/dockerfile2llb/image.go, emptyImage): WorkingDir "/" and the default PATH.
    baseConfig = { Env: [DEFAULT_PATH_ENV], WorkingDir: '/' };
  }
  const triggers = baseConfig.OnBuild?.length ? parseTriggers(baseConfig.OnBuild, stage.from, file, parsed.escapeToken) : [];
  delete baseConfig.OnBuild;

  const fail = (code: string, message: string, range: SourceRange): never => {
    throw new DockerfileError(message, file, range, { code });
  };
  const ctx: DispatchContext = {
    file,
    stageIndex: stage.index,
    expand: (word, state, range) => expander.expand(word, expansionEnv(state), range, declaredNames(state), state.baseEnvKnown).result,
    expandWords: (word, state, range) => expander.expand(word, expansionEnv(state), range, declaredNames(state), state.baseEnvKnown).words,
    expandRaw: (word, state, range) => expander.expand(word, expansionEnv(state), range, declaredNames(state), state.baseEnvKnown, true).result,
    isLiteral: (word) => {
      try {
        return processWord(word, EMPTY_ENV, { escapeToken: parsed.escapeToken as '\\' | '`' }) === word;
      } catch {
        return false;
      }
    },
    resolveSource: (name, range, kind, mountTarget) => resolveSource(run, stage, name, range, kind, fail, mountTarget),
    metaArg: (name) => run.scope.values.get(name),
    buildArg: (name) => {
      const v = run.buildArgs.get(name);
      if (v !== undefined) {
        const set = run.usedBy.get(name) ?? new Set<number>();
        set.add(stage.index);
        run.usedBy.set(name, set);
      }
      return v;
    },
    warn: (rule, message, range) => {
      warnings.push(lintWarning(rule, message, range));
    },
    fail,
  };
  // MultipleInstructionsDisallowed: only the last CMD/ENTRYPOINT/HEALTHCHECK of a stage counts.
  const lastOnce = new Map<string, Instruction>();

  run.envKnown[stage.index] = envKnown;
  const inherit = base.kind === 'stage' ? run.finalStates[base.index] : undefined;
  let state: BuildState = initialState(baseConfig, platform, envKnown, inherit);
  const steps: Step[] = [];
  const all: Array<[Instruction, boolean]> = [...triggers.map((t) => [t, true] as [Instruction, boolean]), ...stage.instructions.map((i) => [i, false] as [Instruction, boolean])];
  for (const [inst, onbuild] of all) {
    if (inst.kind === 'FROM') continue; // cannot happen: FROM starts a stage
    if (!onbuild && (inst.kind === 'CMD' || inst.kind === 'ENTRYPOINT' || inst.kind === 'HEALTHCHECK')) {
      const prev = lastOnce.get(inst.kind);
      if (prev) {
        ctx.warn('MultipleInstructionsDisallowed',
          `Multiple ${inst.kind} instructions should not be used in the same stage because only the last one will be used`, prev.range);
      }
      lastOnce.set(inst.kind, inst);
    }
    const r = dispatcherFor(inst.kind)(inst, state, ctx);
    const history = r.createdBy === undefined ? undefined
      : { created_by: r.createdBy, comment: 'buildkit.dockerfile.v0', ...(r.makesLayer ? {} : { empty_layer: true }) };
    steps.push({
      kind: inst.kind, instruction: inst, expanded: r.expanded, range: inst.range, original: inst.original, state: snapshot(state),
      ...(history ? { history } : {}), makesLayer: r.makesLayer, ...(onbuild ? { onbuild: true } : {}),
    });
    state = history ? withHistory(r.state, history) : r.state;
  }
  run.finalStates[stage.index] = state;
  return {
    index: stage.index, ...(stage.name ? { name: stage.name } : {}), base, platform, fromRange: stage.from.range, steps,
    finalConfig: { ...state.config }, history: [...state.history], ...(state.author !== undefined ? { author: state.author } : {}),
  };
}

const EMPTY_ENV = envFromSlice([]);

const declaredNames = (state: BuildState): ReadonlySet<string> => new Set(state.args.map(([k]) => k));

/**
 * `COPY --from` / mount `from=` (stage-lookup.ts says which stage a name
 * means). The edge is recorded before an order error, so a cycle through it
 * is reported as one. A stage defined after this one is BuildKit's
 * dispatch-time error (stages are dispatched in file order).
 */
function resolveSource(run: Run, stage: Stage, name: string, range: SourceRange, kind: StageEdge['kind'],
  fail: (code: string, message: string, range: SourceRange) => never, mountTarget?: string): StepSource {
  if (name === '') fail(StageErrorCode.InvalidValue, 'the --from value must not be empty', range);
  const stages = run.parsed.stages;
  let idx: number | undefined;
  if (kind !== 'mount' && isStageIndex(name)) {
    idx = Number(name);
    if (!(idx >= 0 && idx < stages.length)) fail(StageErrorCode.InvalidValue, `invalid stage index ${idx}`, range);
  } else {
    idx = namedStage(name, stages);
  }
  if (idx !== undefined) {
    if (idx === stage.index) fail(StageErrorCode.Cycle, `circular dependency detected on stage: ${name} (a stage cannot copy from itself)`, range);
    run.edges.push({ from: stage.index, to: idx, kind, range });
    if (idx > stage.index) {
      fail(StageErrorCode.StageOrder, kind === 'mount'
        ? `cannot mount from stage ${JSON.stringify(name)} to ${JSON.stringify(mountTarget ?? '')}, stage needs to be defined before current command`
        : `cannot copy from stage ${JSON.stringify(name)}, it needs to be defined before current stage ${JSON.stringify(stageLabel(stage))}`, range);
    }
    return { kind: 'stage', index: idx };
  }
  try {
    parseReference(name);
  } catch (err) {
    fail(StageErrorCode.InvalidReference, `invalid --from ${JSON.stringify(name)}: not a stage and ${(err as Error).message}`, range);
  }
  return { kind: 'image', ref: name };
}
