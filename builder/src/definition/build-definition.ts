/**
 * Stage graph → vertices. Walks the reachable stages (a stage is converted
 * once, when first needed: by FROM <stage>, COPY --from or a mount's from=),
 * chaining each layer-making step onto the previous vertex:
 *   FROM image  → ImageSource (shared by every stage using the same image);
 *                 a local --build-context → its tree copied onto scratch
 *   RUN         → Exec [parent, mount sources…]
 *   COPY/ADD    → File [parent, from?, remote sources…]; with --link: File [from?,
 *                 remote sources…] on an empty base, then Merge [parent, that] — the
 *                 copy's key ignores the parent. ADD of a URL / git repo: an HTTP / Git
 *                 source vertex per remote source (remote-step.ts)
 *   WORKDIR     → File (mkdir -p)
 * Metadata steps make no vertex. Each vertex is plain data (types.ts): its
 * op description (ops.ts), inputs by index, and a digest covering both;
 * `explainId` is `<file>#<target>#<stage>#<line>`, so a miss is explained
 * against the previous build of the same step. Pure: no I/O, no worker.
 */
import { DockerfileError, formatPlatform } from '@tsbuild/core';
import type { StageNode, Step, StepSource } from '@tsbuild/dockerfile';
import { copyStepToFileActions, workdirStepToFileActions } from './copy-step.js';
import { descriptionDigest } from './digest.js';
import { platformLabel, stageLabel, stepName } from './naming.js';
import type { FileAction, OpDescription } from './ops.js';
import { remoteInputs, remoteVertices } from './remote-step.js';
import { runStepToExec } from './run-step.js';
import type { Definition, DefinitionOptions, DefinitionVertex, LocalSource, NewVertex, VertexMeta } from './types.js';

export function buildDefinition(o: DefinitionOptions): Definition {
  const { graph, file } = o;
  const targetLabel = graph.target.name ?? String(graph.target.index);
  const noCache = new Set(o.noCacheStages ?? []);
  const vertices: DefinitionVertex[] = [];
  const imageVertices = new Map<string, number>();
  const stageVertices = new Map<number, number | undefined>();

  const add = (v: NewVertex, m: VertexMeta): number => {
    const digest = descriptionDigest(v.op, v.inputs.map((i) => vertices[i]!.digest));
    const ignoreCache = noCache.has(m.stage) || noCache.has(String(m.stageIndex));
    vertices.push({ digest, name: v.name, ...(v.explainId === undefined ? {} : { explainId: v.explainId }), inputs: v.inputs, op: plain(v.op), ...(ignoreCache ? { ignoreCache } : {}), ...m });
    return vertices.length - 1;
  };

  const imageVertex = (ref: string, name: string, m: VertexMeta): number => {
    const local = o.locals?.get(ref);
    if (local) return localVertex(ref, local, m);
    const base = o.images.get(ref);
    if (!base) throw new DockerfileError(`image "${ref}" was not resolved`, file, m.range, { code: 'BUILD_BASE_IMAGE_NOT_FOUND' });
    const key = `${base.ref}@${base.platform}`;
    let v = imageVertices.get(key);
    if (v === undefined) {
      const { config: _config, ...spec } = base;
      v = add({ name, inputs: [], op: { op: 'source', ...spec } }, m);
      imageVertices.set(key, v);
    }
    return v;
  };

  // A local --build-context: its tree (after its own .dockerignore) as one layer on scratch, keyed on its content checksums.
  const localVertex = (ref: string, local: LocalSource, m: VertexMeta): number => {
    let v = imageVertices.get(`local:${ref}`);
    if (v === undefined) {
      const spec = { actions: [contextTree()], platform: formatPlatform(graph.target.platform), hasParent: false, ...(o.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: o.sourceDateEpoch }) };
      v = add({ name: `[context ${local.name}] load from client`, explainId: `${file}#context#${local.name}`, inputs: [], op: { op: 'local', context: local.name, ...spec } }, m);
      imageVertices.set(`local:${ref}`, v);
    }
    return v;
  };

  const sourceVertex = (src: StepSource, m: VertexMeta): number | undefined =>
    src.kind === 'stage' ? stageVertex(src.index) : imageVertex(src.ref, `[internal] load image ${pinned(o.images.get(src.ref)) ?? src.ref}`, m);

  const stageVertex = (index: number): number | undefined => {
    if (stageVertices.has(index)) return stageVertices.get(index);
    const v = convertStage(graph.stages[index]!);
    stageVertices.set(index, v);
    return v;
  };

  const convertStage = (stage: StageNode): number | undefined => {
    const label = [o.platformPrefix ? platformLabel(stage.platform) : '', stageLabel(graph, stage)].filter(Boolean).join(' ');
    const stageId = stage.name ?? String(stage.index);
    const total = stage.steps.filter((s) => s.makesLayer).length + 1;
    const platform = formatPlatform(stage.platform);
    const base: VertexMeta = { stage: stageId, stageIndex: stage.index, range: stage.fromRange };
    let cur: number | undefined;
    if (stage.base.kind === 'image') cur = imageVertex(stage.base.ref, stepName(label, 1, total, `FROM ${pinned(o.images.get(stage.base.ref)) ?? stage.base.ref}`), base);
    else if (stage.base.kind === 'stage') cur = stageVertex(stage.base.index);
    let n = 1;
    for (const step of stage.steps) {
      if (!step.makesLayer) continue;
      n++;
      const m: VertexMeta = { stage: stageId, stageIndex: stage.index, range: step.range };
      const common = { name: stepName(label, n, total, step.original), explainId: `${file}#${targetLabel}#${stageId}#${step.range.start.line}` };
      cur = convertStep(step, cur, platform, common, m);
    }
    return cur;
  };

  const convertStep = (step: Step, parent: number | undefined, platform: string, common: { name: string; explainId: string }, m: VertexMeta): number => {
    const parentInputs = parent === undefined ? [] : [parent];
    const hasParent = parent !== undefined;
    const epoch = o.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: o.sourceDateEpoch };
    const make = (op: OpDescription, inputs: number[], c = common) => add({ ...c, op, inputs }, m);
    if (step.expanded.kind === 'RUN') {
      const { spec, sources } = runStepToExec(step, file, { network: o.network, allowInsecure: o.allowInsecure, allowNetworkHost: o.allowNetworkHost !== false, ...(o.extraHosts?.length ? { extraHosts: o.extraHosts } : {}),
        ...(o.shmSize ? { shmSize: o.shmSize } : {}), ...(o.ulimits?.length ? { ulimits: o.ulimits } : {}), ...(o.cgroupParent ? { cgroupParent: o.cgroupParent } : {}) });
      const inputs = [...parentInputs, ...sources.map((s) => sourceVertex(s, m))];
      if (inputs.some((i) => i === undefined)) throw new DockerfileError('a RUN --mount from= an empty stage is not supported', file, step.range, { code: 'BUILD_UNSUPPORTED' });
      // Mount input indexes are relative to the sources; shift them past the parent.
      const mounts = spec.mounts.map((mt) => (mt.type === 'bind' && 'input' in mt.from ? { ...mt, from: { input: mt.from.input - (hasParent ? 0 : 1) } } : mt));
      // Proxy build args reach the process's environment, never the digest or the key (ops.ts).
      const proxyEnv = graph.proxyEnv.map(([k, v]) => `${k}=${v}`);
      const op = { op: 'exec' as const, ...spec, mounts, platform, hasParent, ...epoch, ...(proxyEnv.length > 0 ? { proxyEnv } : {}) };
      return make(op, inputs.filter((i): i is number => i !== undefined));
    }
    const fileVertex = (actions: FileAction[], inputs: number[], withParent: boolean, c = common) =>
      make({ op: 'file', actions, platform, hasParent: withParent, ...epoch }, inputs, c);
    if (step.expanded.kind === 'WORKDIR') return fileVertex(workdirStepToFileActions(step), parentInputs, hasParent);
    const from = step.expanded.kind === 'COPY' || step.expanded.kind === 'ADD' ? step.expanded.from : undefined;
    const fromVertex = from ? sourceVertex(from, m) : undefined;
    // --link builds the copy on an empty tree and merges it, but not with --chmod: BuildKit's
    // dispatchCopy (convert_copy.go) merges only when `cfg.link && cfg.chmod == ""`, and else
    // copies onto the parent (so, e.g., a destination symlink is followed, not replaced).
    const link = (step.expanded.kind === 'COPY' || step.expanded.kind === 'ADD') && step.expanded.link && !step.expanded.chmod;
    const remotes = remoteVertices(step, { file, explainId: common.explainId, add: (v) => add(v, m) });
    if (!link) {
      const inputs = [...parentInputs, ...(fromVertex === undefined ? [] : [fromVertex])];
      const index = inputs.length - 1;
      return fileVertex(copyStepToFileActions(step, fromInput(from, fromVertex, index), remoteInputs(remotes, inputs)), [...inputs, ...remotes.values()], hasParent);
    }
    const linkInputs = fromVertex === undefined ? [] : [fromVertex];
    const actions = copyStepToFileActions(step, fromInput(from, fromVertex, 0), remoteInputs(remotes, linkInputs));
    linkInputs.push(...remotes.values());
    const layer = fileVertex(actions, linkInputs, false, { name: `${common.name} (link)`, explainId: `${common.explainId}#link` });
    return make({ op: 'merge', hasParent }, [...parentInputs, layer]);
  };

  const target = stageVertex(graph.target.index);
  return { file, vertices, ...(target === undefined ? {} : { target }) };
}

/**
 * The description without undefined fields (the step conversions leave unset
 * flags undefined): what JSON keeps, so a definition equals its JSON round
 * trip. The digest is the same either way (canonical JSON drops them too).
 */
function plain<T>(value: T): T {
  if (Array.isArray(value)) return value.map(plain) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, plain(v)])) as T;
}

/** Copies a whole context tree to `/` (a local --build-context's source). */
function contextTree(): FileAction {
  return { kind: 'copy', from: { context: true }, sources: ['.'], dest: '/', cwd: '/', exclude: [], parents: false, mode: 'copy' };
}

/**
 * The input index a COPY --from reads: undefined for the context; -1 for a
 * stage with no layers (scratch), which the file op reads as an empty tree.
 */
function fromInput(from: StepSource | undefined, vertex: number | undefined, index: number): number | undefined {
  if (!from) return undefined;
  return vertex === undefined ? -1 : index;
}

/** `docker.io/library/busybox:latest@sha256:…`, as BuildKit names a resolved base. */
function pinned(base: { ref: string; manifestDigest: string } | undefined): string | undefined {
  if (!base) return undefined;
  return base.ref.includes('@') ? base.ref : `${base.ref}@${base.manifestDigest}`;
}
