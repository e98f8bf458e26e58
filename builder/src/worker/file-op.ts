/**
 * File ops (COPY/ADD, WORKDIR's mkdir, heredoc files): prepare a snapshot on
 * the parent and MOUNT it, so destination resolution sees the lower layers'
 * directories and symlinks (a symlinked dest dir resolves inside the root),
 * apply the actions with `fileops`, unmount, diff, commit. Sources are the
 * build context (the key holds the content checksums of exactly what is
 * selected) or another result's tree (keyed through that input).
 */
import { sha256, TsbuildError, DockerfileError, isCanceled, type SourceRange } from '@tsbuild/core';
import type { PathMatcher, ContextHashMode, ChecksumCache } from '../context/index.js';
import { checksumContext } from '../context/index.js';
import type { ContextSummer } from '../context/watch/index.js';
import { copy, mkdir, mkfile, resolveOwner } from '../fileops/index.js';
import type { CacheMap, CacheMapContext, ExecContext, Op } from '../solver/index.js';
import { commitDiff } from './commit-diff.js';
import { withMounted, withResultTree } from './mount-tree.js';
import { EMPTY_RESULT, type LayerResult } from './types.js';
import type { Worker } from './worker.js';

export type FileAction =
  | {
      kind: 'copy';
      from: { context: true } | { input: number };
      sources: string[];
      dest: string;
      cwd: string;
      chown?: string | undefined;
      chmod?: string | undefined;
      exclude: string[];
      parents: boolean;
      mode: 'copy' | 'add';
    }
  | { kind: 'mkdir'; path: string; owner?: string | undefined; mode: number }
  | { kind: 'mkfile'; path: string; data: string; chown?: string | undefined; chmod?: string | undefined };

export interface FileSpec {
  actions: FileAction[];
  platform: string;
  /** SOURCE_DATE_EPOCH, when set: the layer's mtimes are clamped to it, so it is part of the key. */
  sourceDateEpoch?: number;
  /** Whether inputs[0] is the parent tree (else an empty base: scratch, or COPY --link's own layer). */
  hasParent: boolean;
}

export interface FileEnv {
  contextDir: string;
  ignore: PathMatcher | undefined;
  hashMode: ContextHashMode;
  checksums: ChecksumCache;
  /** Checksums context sources (default checksumContext): the build's ContextSession, which may answer from the context watcher's memo. */
  sum?: ContextSummer | undefined;
  file: string;
  range: SourceRange;
}

export class FileOp implements Op {
  constructor(
    private readonly w: Worker,
    readonly spec: FileSpec,
    private readonly env: FileEnv,
  ) {}

  async cacheMap(ctx: CacheMapContext): Promise<CacheMap> {
    // One context COPY's map is passed through as it is: it carries its content digest (and, from the context
    // watcher's memo, is only read if a miss needs explaining). Several are merged into a new map.
    let content: Record<string, string> = {};
    let maps = 0;
    const sum = this.env.sum ?? checksumContext;
    for (const a of this.spec.actions) {
      if (a.kind !== 'copy' || !('context' in a.from)) continue;
      const result = await this.located(() =>
        sum({
          contextDir: this.env.contextDir, patterns: a.sources, exclude: a.exclude, ignore: this.env.ignore,
          mode: this.env.hashMode, cache: this.env.checksums, signal: ctx.signal,
        }),
      );
      content = maps++ === 0 ? result.files : Object.assign({}, content, result.files);
    }
    const actions = this.spec.actions.map((a) => (a.kind === 'mkfile' ? { ...a, data: sha256(a.data) } : a));
    const epoch = this.spec.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: this.spec.sourceDateEpoch };
    return { definition: { op: 'file', platform: this.spec.platform, ...epoch, actions }, content };
  }

  async exec(inputs: LayerResult[], ctx: ExecContext): Promise<LayerResult> {
    const parent = this.spec.hasParent ? inputs[0]! : EMPTY_RESULT;
    const snap = this.w.snapshotter;
    this.w.warmCompression();
    const tmpKey = this.w.tempKey('file');
    const mounts = await snap.prepare(tmpKey, parent.snapshot);
    try {
      await withMounted(mounts, async (root) => {
        for (const a of this.spec.actions) await this.located(() => this.apply(a, root, inputs, ctx.signal));
      });
    } catch (err) {
      await snap.remove(tmpKey).catch(() => undefined);
      throw err;
    }
    return commitDiff(this.w, tmpKey, parent, ctx);
  }

  private async apply(a: FileAction, root: string, inputs: LayerResult[], signal: AbortSignal): Promise<void> {
    const owner = async (spec: string | undefined) => (spec ? resolveOwner(root, spec, { signal }) : undefined);
    if (a.kind === 'mkdir') {
      const o = await owner(a.owner);
      await mkdir({ root, path: a.path, parents: true, mode: a.mode, ...(o ?? {}), signal });
      return;
    }
    if (a.kind === 'mkfile') {
      const o = await owner(a.chown);
      const mode = a.chmod === undefined ? 0o644 : parseInt(a.chmod, 8);
      await mkfile({ root, path: a.path, data: a.data, mode, ...(o ?? {}), signal });
      return;
    }
    const chown = await owner(a.chown);
    const run = (srcRoot: string, fromResult: boolean) =>
      copy({
        srcRoot, srcPatterns: a.sources, destRoot: root, dest: a.dest, cwd: a.cwd, chown, chmod: a.chmod,
        exclude: a.exclude, parents: a.parents, mode: a.mode, preserveOwnership: fromResult,
        ignore: fromResult ? undefined : this.env.ignore, signal,
      });
    if ('context' in a.from) await run(this.env.contextDir, false);
    else await withResultTree(this.w, inputs[a.from.input] ?? EMPTY_RESULT, (dir) => run(dir, true));
  }

  /** Names the instruction in a file operation's error (a missing source, a bad --chown…). */
  private async located<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isCanceled(err) || err instanceof DockerfileError || !(err instanceof TsbuildError)) throw err;
      throw new DockerfileError(err.message, this.env.file, this.env.range, { code: err.code, cause: err });
    }
  }
}
