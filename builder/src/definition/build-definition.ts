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
 * Metadata steps make no vertex. Each vertex digest covers its definition
 * and its inputs' digests; `explainId` is `<file>#<target>#<stage>#<line>`,
 * so a miss is explained against the previous build of the same step.
 */
import { DockerfileError, formatPlatform } from '@tsbuild/core';
import { checksumContext, createMemoryChecksumCache } from '../context/index.js';
import type { ContextSummer } from '../context/watch/index.js';
import type { StageNode, Step, StepSource } from '../frontend/stages/index.js';
import { vertexDigest, type Op, type ResourceClass, type Vertex } from '../solver/index.js';
import { ExecOp } from '../worker/exec-op.js';
import { FileOp, type FileAction } from '../worker/file-op.js';
import { ImageSourceOp } from '../worker/image-source-op.js';
import { MergeOp } from '../worker/merge-op.js';
import type { LayerResult } from '../worker/types.js';
import { convertCopy, convertWorkdir } from './copy-step.js';
import { stageLabel, stepName } from './naming.js';
import { remoteInputs, remoteVertices } from './remote-step.js';
import { convertRun } from './run-step.js';
import { plannedOf, type Definition, type DefinitionOptions, type LocalSource, type VertexMeta } from './types.js';

export function buildDefinition(o: DefinitionOptions): Definition {
  const { graph, file } = o;
  const checksums = o.checksums ?? createMemoryChecksumCache();
  const sumContext: ContextSummer = o.contextSums ?? ((x) => checksumContext({ ...x, cache: x.cache ?? checksums }));
  const targetLabel = graph.target.name ?? String(graph.target.index);
  const vertices: Vertex[] = [];
  const meta = new Map<Vertex, VertexMeta>();
  const imageVertices = new Map<string, Vertex>();
  const stageVertices = new Map<number, Vertex | undefined>();

  const add = (v: Omit<Vertex, 'digest'> & { def: object }, m: VertexMeta): Vertex => {
    const { def, ...rest } = v;
    const vertex: Vertex = { ...rest, digest: vertexDigest({ def, inputs: v.inputs.map((i) => i.digest) }) };
    vertices.push(vertex);
    meta.set(vertex, m);
    return vertex;
  };

  const imageVertex = (ref: string, name: string, m: VertexMeta): Vertex => {
    const local = o.locals?.get(ref);
    if (local) return localVertex(ref, local, m);
    const base = o.images.get(ref);
    if (!base) throw new DockerfileError(`image "${ref}" was not resolved`, file, m.range, { code: 'BUILD_BASE_IMAGE_NOT_FOUND' });
    const key = `${base.ref}@${base.platform}`;
    let v = imageVertices.get(key);
    if (!v) {
      const { config: _config, ...spec } = base;
      v = add({ name, inputs: [], op: new ImageSourceOp(o.worker, spec), resourceClass: 'io', def: { op: 'source', ...spec } }, m);
      imageVertices.set(key, v);
    }
    return v;
  };

  // A local --build-context: its tree (after its own .dockerignore) as one layer on scratch, keyed on its content checksums.
  const localVertex = (ref: string, local: LocalSource, m: VertexMeta): Vertex => {
    let v = imageVertices.get(`local:${ref}`);
    if (!v) {
      const spec = { actions: [contextTree()], platform: formatPlatform(graph.target.platform), hasParent: false, ...(o.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: o.sourceDateEpoch }) };
      const env = { contextDir: local.dir, ignore: local.ignore, hashMode: o.hashMode, checksums: createMemoryChecksumCache(), file, range: m.range ?? graph.target.fromRange };
      const op = new FileOp(o.worker, spec, env);
      // A source starts the chain: its layer is a base layer, not a step of the Dockerfile.
      const source: Op = { cacheMap: (ctx) => op.cacheMap(ctx), exec: async (inputs, ctx) => ({ ...(await op.exec(inputs as LayerResult[], ctx)), steps: [] }) };
      v = add({ name: `[context ${local.name}] load from client`, explainId: `${file}#context#${local.name}`, inputs: [], op: source, resourceClass: 'io', def: { op: 'local', context: local.name, ...spec } }, m);
      imageVertices.set(`local:${ref}`, v);
    }
    return v;
  };

  const sourceVertex = (src: StepSource, m: VertexMeta): Vertex | undefined =>
    src.kind === 'stage' ? stageVertex(src.index) : imageVertex(src.ref, `[internal] load image ${pinned(o.images.get(src.ref)) ?? src.ref}`, m);

  const stageVertex = (index: number): Vertex | undefined => {
    if (stageVertices.has(index)) return stageVertices.get(index);
    const v = convertStage(graph.stages[index]!);
    stageVertices.set(index, v);
    return v;
  };

  const convertStage = (stage: StageNode): Vertex | undefined => {
    const label = stageLabel(graph, stage);
    const stageId = stage.name ?? String(stage.index);
    const total = stage.steps.filter((s) => s.makesLayer).length + 1;
    const platform = formatPlatform(stage.platform);
    const base: VertexMeta = { stage: stageId, stageIndex: stage.index, range: stage.fromRange };
    let cur: Vertex | undefined;
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

  const convertStep = (step: Step, parent: Vertex | undefined, platform: string, common: { name: string; explainId: string }, m: VertexMeta): Vertex => {
    const parentInputs = parent ? [parent] : [];
    const hasParent = parent !== undefined;
    const epoch = o.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: o.sourceDateEpoch };
    const make = (op: Op, inputs: Vertex[], def: object, resourceClass: ResourceClass = 'io', c = common) =>
      add({ ...c, op, inputs, resourceClass, def }, m);
    if (step.expanded.kind === 'RUN') {
      const { spec, sources } = convertRun(step, file, { network: o.network, allowInsecure: o.allowInsecure });
      const inputs = [...parentInputs, ...sources.map((s) => sourceVertex(s, m))];
      if (inputs.some((i) => i === undefined)) throw new DockerfileError('a RUN --mount from= an empty stage is not supported', file, step.range, { code: 'BUILD_UNSUPPORTED' });
      // Mount input indexes are relative to the sources; shift them past the parent.
      const mounts = spec.mounts.map((mt) => (mt.type === 'bind' && 'input' in mt.from ? { ...mt, from: { input: mt.from.input - (hasParent ? 0 : 1) } } : mt));
      const full = { ...spec, mounts, platform, hasParent, ...epoch };
      const contextChecksum = async (source: string, signal: AbortSignal) =>
        (await sumContext({ contextDir: o.contextDir, patterns: [source || '.'], ignore: o.ignore, mode: o.hashMode, signal })).files;
      const proxyEnv = graph.proxyEnv.map(([k, v]) => `${k}=${v}`);
      const env = { contextDir: o.contextDir, secrets: o.secrets, ssh: o.ssh, proxyEnv, contextChecksum, file, range: step.range };
      return make(new ExecOp(o.worker, full, env), inputs as Vertex[], { op: 'exec', ...full }, 'exec');
    }
    const fileEnv = { contextDir: o.contextDir, ignore: o.ignore, hashMode: o.hashMode, checksums, sum: sumContext, file, range: step.range };
    const fileVertex = (actions: FileAction[], inputs: Vertex[], withParent: boolean, c = common) => {
      const spec = { actions, platform, hasParent: withParent, ...epoch };
      // A file op on a file op may build its layer beside it (see FileOp).
      const below = withParent && parent?.op instanceof FileOp ? parent.op : undefined;
      return make(new FileOp(o.worker, spec, fileEnv, below), inputs, { op: 'file', ...spec }, 'io', c);
    };
    if (step.expanded.kind === 'WORKDIR') return fileVertex(convertWorkdir(step), parentInputs, hasParent);
    const from = step.expanded.kind === 'COPY' || step.expanded.kind === 'ADD' ? step.expanded.from : undefined;
    const fromVertex = from ? sourceVertex(from, m) : undefined;
    // --link builds the copy on an empty tree and merges it, but not with --chmod: BuildKit's
    // dispatchCopy (convert_copy.go) merges only when `cfg.link && cfg.chmod == ""`, and else
    // copies onto the parent (so, e.g., a destination symlink is followed, not replaced).
    const link = (step.expanded.kind === 'COPY' || step.expanded.kind === 'ADD') && step.expanded.link && !step.expanded.chmod;
    const remotes = remoteVertices(step, m, { worker: o.worker, file, explainId: common.explainId, add: (v) => add(v, m) });
    if (!link) {
      const inputs = [...parentInputs, ...(fromVertex ? [fromVertex] : [])];
      const index = inputs.length - 1;
      return fileVertex(convertCopy(step, fromInput(from, fromVertex, index), remoteInputs(remotes, inputs)), [...inputs, ...remotes.values()], hasParent);
    }
    const linkInputs = fromVertex ? [fromVertex] : [];
    const actions = convertCopy(step, fromInput(from, fromVertex, 0), remoteInputs(remotes, linkInputs));
    linkInputs.push(...remotes.values());
    const layer = fileVertex(actions, linkInputs, false, { name: `${common.name} (link)`, explainId: `${common.explainId}#link` });
    return make(new MergeOp(o.worker, hasParent), [...parentInputs, layer], { op: 'merge', hasParent });
  };

  const target = stageVertex(graph.target.index);
  return { target, vertices, meta, plan: vertices.map((v) => plannedOf(v, meta.get(v))) };
}

/** Copies a whole context tree to `/` (a local --build-context's source). */
function contextTree(): FileAction {
  return { kind: 'copy', from: { context: true }, sources: ['.'], dest: '/', cwd: '/', exclude: [], parents: false, mode: 'copy' };
}

/**
 * The input index a COPY --from reads: undefined for the context; -1 for a
 * stage with no layers (scratch), which the file op reads as an empty tree.
 */
function fromInput(from: StepSource | undefined, vertex: Vertex | undefined, index: number): number | undefined {
  if (!from) return undefined;
  return vertex ? index : -1;
}

/** `docker.io/library/busybox:latest@sha256:…`, as BuildKit names a resolved base. */
function pinned(base: { ref: string; manifestDigest: string } | undefined): string | undefined {
  if (!base) return undefined;
  return base.ref.includes('@') ? base.ref : `${base.ref}@${base.manifestDigest}`;
}
