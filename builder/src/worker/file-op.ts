/**
 * File ops (COPY/ADD, WORKDIR's mkdir, heredoc files): prepare a snapshot on
 * the parent and MOUNT it, so destination resolution sees the lower layers'
 * directories and symlinks (a symlinked dest dir resolves inside the root),
 * apply the actions with `fileops`, unmount, diff, commit. Sources are the
 * build context (the key holds the content checksums of exactly what is
 * selected) or another result's tree (keyed through that input).
 *
 * Consecutive COPYs build their layers side by side (the final stage of a
 * multi-stage build copying from several stages at once), where overlayfs
 * makes that exact: a COPY whose parent is another COPY still running builds
 * on the tree that one builds on (its `base`) and is committed on the parent
 * once that is done (a rebase: an overlay snapshot's files are its diff). The
 * layer is the same as if it had waited when nothing the COPYs in between
 * write can change what this one reads: every directory above its
 * destination exists in the base (so none is created by another COPY, with
 * that one's --chown), no symlink is on the way, no destination is at, above
 * or below another, and --chown is numeric (a name is read from /etc/passwd).
 * Otherwise, or on the copy snapshotter, it waits for its parent as before.
 * Parents' mtimes differ (they are the time of the write either way); the
 * cache key is the same, so a rebuild or another builder hits it.
 */
import { lstatSync } from 'node:fs';
import { join, posix } from 'node:path';
import { sha256, TsbuildError, DockerfileError, isCanceled, type SourceRange } from '@tsbuild/core';
import type { PathMatcher, ContextHashMode, ChecksumCache } from '../context/index.js';
import { checksumContext } from '../context/index.js';
import type { ContextSummer } from '../context/watch/index.js';
import { copy, mkdir, mkfile, octalChmod, parseChmod, resolveOwner } from '../fileops/index.js';
import type { FileAction, FileSpec } from '../definition/ops.js';
import type { CacheMap, CacheMapContext, EagerExecContext, ExecContext, Op } from '../solver/index.js';
import { commitDiff, commitLayer, diffLayer } from './commit-diff.js';
import { withMounted, withResultTree } from './mount-tree.js';
import { EMPTY_RESULT, type LayerResult } from './types.js';
import type { Worker } from './worker.js';

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

/** What a COPY tells the COPY above it before it is done: the tree it builds on and the paths it writes. */
interface Footprint {
  base: LayerResult;
  writes: string[];
}

export class FileOp implements Op<LayerResult> {
  /** Resolved when this op knows where it builds (undefined: the next op must wait for its result); pending if it never runs. */
  private readonly footprint = resolvable<Footprint | undefined>();
  /** The destination of a COPY that can build beside the one below it; undefined when it cannot. */
  private readonly dest: string | undefined;

  constructor(
    private readonly w: Worker,
    readonly spec: FileSpec,
    private readonly env: FileEnv,
    /** The op of the parent step, when that is a file op too (see the module comment). */
    private readonly below?: FileOp,
  ) {
    const [a, ...more] = spec.actions;
    const single = a !== undefined && more.length === 0 && a.kind === 'copy' && a.mode === 'copy';
    this.dest = single && spec.hasParent && /^\d*(:\d+)?$/.test(a.chown ?? '') ? posix.resolve(a.cwd, a.dest) : undefined;
  }

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
          contextDir: this.env.contextDir, patterns: a.sources, exclude: a.exclude, parents: a.parents, ignore: this.env.ignore,
          mode: this.env.hashMode, cache: this.env.checksums, signal: ctx.signal,
        }),
      );
      content = maps++ === 0 ? result.files : Object.assign({}, content, result.files);
    }
    const actions = this.spec.actions.map((a) => (a.kind === 'mkfile' ? { ...a, data: sha256(a.data) } : a));
    const epoch = this.spec.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: this.spec.sourceDateEpoch };
    return { definition: { op: 'file', platform: this.spec.platform, ...epoch, actions }, content };
  }

  async execEager(pending: Promise<LayerResult>[], ctx: EagerExecContext): Promise<LayerResult> {
    const dest = this.dest;
    if (dest === undefined || this.w.snapshotter.kind !== 'overlay') {
      this.footprint.resolve(undefined);
      const inputs = await Promise.all(pending);
      return ctx.slot(() => this.exec(inputs, ctx));
    }
    const parent = pending[0]!;
    const onParent = parent.then((p) => ({ base: p, writes: [] as string[], rebase: false }));
    const start = await Promise.race([
      onParent,
      ...(this.below ? [this.below.footprint.promise.then((f) => (f ? { base: f.base, writes: f.writes, rebase: true } : onParent))] : []),
    ]);
    const snap = this.w.snapshotter;
    const tmpKey = this.w.tempKey('file');
    const mounts = await ctx.slot(() => snap.prepare(tmpKey, start.base.snapshot));
    let outcome: 'built' | 'wait';
    try {
      outcome = await withMounted(mounts, async (root) => {
        const clear = plainPath(root, dest) && !start.writes.some((w) => overlaps(w, dest));
        this.footprint.resolve(clear ? { base: start.base, writes: [...start.writes, dest] } : undefined);
        if (!clear && start.rebase) return 'wait';
        const inputs = [start.base, ...(await Promise.all(pending.slice(1)))];
        await ctx.slot(() => {
          ctx.began(); // in the slot: waiting for one is not the COPY's time
          return this.located(() => this.apply(this.spec.actions[0]!, root, inputs, ctx.signal));
        });
        return 'built';
      });
    } catch (err) {
      await snap.remove(tmpKey).catch(() => undefined);
      throw err;
    }
    if (outcome === 'wait') {
      await snap.remove(tmpKey);
      const inputs = await Promise.all(pending);
      return ctx.slot(() => this.exec(inputs, ctx));
    }
    if (!start.rebase) return ctx.slot(() => commitDiff(this.w, tmpKey, start.base, ctx));
    const layer = await ctx.slot(() => diffLayer(this.w, tmpKey, start.base, ctx));
    let onto: LayerResult;
    try {
      onto = await parent;
    } catch (err) {
      await snap.remove(tmpKey).catch(() => undefined);
      throw err;
    }
    return ctx.slot(() => commitLayer(this.w, tmpKey, onto, layer, { rebase: true }));
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
      // BuildKit makes the file 0644 in a scratch tree and copies it with --chmod (octal or symbolic).
      const o = await owner(a.chown);
      const mode = a.chmod === undefined ? 0o644 : parseChmod(a.chmod)(0o644, false);
      await mkfile({ root, path: a.path, data: a.data, mode, dirMode: octalChmod(a.chmod), ...(o ?? {}), signal });
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

/** Whether every directory above `path` in `root` is a real directory and `path` itself, if it exists, no symlink. */
function plainPath(root: string, path: string): boolean {
  const parts = path.split('/').filter(Boolean);
  let at = root;
  for (let i = 0; i < parts.length; i++) {
    at = join(at, parts[i]!);
    let st;
    try {
      st = lstatSync(at);
    } catch {
      return i === parts.length - 1; // only the destination itself may be missing
    }
    if (st.isSymbolicLink() || (i < parts.length - 1 && !st.isDirectory())) return false;
  }
  return true;
}

/** Whether one of two absolute paths is the other or inside it. */
function overlaps(a: string, b: string): boolean {
  return a === b || a === '/' || b === '/' || a.startsWith(`${b}/`) || b.startsWith(`${a}/`);
}

/** A promise and its resolve (Promise.withResolvers is Node 22). */
function resolvable<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
