/**
 * COPY / ADD of local sources between two plain directories (the builder
 * passes the context or a stage's snapshot as `srcRoot`, the target
 * snapshot as `destRoot`), with docker/BuildKit semantics:
 *
 * - sources are selected by `selectSources` (globs, .dockerignore, --exclude;
 *   a top-level source that is a symlink is followed inside `srcRoot`, so
 *   its target's content is copied under the source's name — BuildKit's
 *   FollowSymlinks) — the same selection `checksumContext` covers;
 * - a directory source copies its *contents* into dest; a file goes to
 *   `dest` itself, or into it when dest ends with `/` or is an existing dir;
 * - several sources need a directory dest (ending in `/`) — CopyDestNotDirError;
 * - owners: `chown` when given; else `preserveOwnership` keeps the source's
 *   (COPY --from); else everything is 0:0 (COPY from the context, as Docker);
 * - modes kept unless `chmod`; mtimes kept; symlinks inside a copied
 *   directory copied as symlinks;
 *   hard links among the copied files stay hard links;
 * - `parents` (COPY --parents) keeps each source's path below the root, or
 *   below the `/./` pivot of its pattern;
 * - ADD (`mode: 'add'`) extracts a local tar (plain, gzip, bzip2, xz, zstd,
 *   detected by content) into dest instead of copying it.
 * Every write goes through DestWriter: nothing lands outside destRoot.
 */
import { constants } from 'node:fs';
import { lstat, open, readlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { throwIfAborted } from '@tsbuild/core';
import { selectSources, type SelectedEntry, type SelectedSource } from '../context/select.js';
import { createExcludeMatcher, type PathMatcher } from '../context/exclude-matcher.js';
import { DestWriter, clean, type EntryMeta, type Owner } from './dest-writer.js';
import { parseChmod, type ModeMapper } from './chmod.js';
import { detectArchive, openTarStream } from './archive.js';
import { extractTar } from './extract.js';
import { resolveInRoot } from './root-path.js';
import { CopyDestNotDirError } from './errors.js';

export interface CopyOptions {
  srcRoot: string;
  srcPatterns: readonly string[];
  destRoot: string;
  /** In-image destination; a trailing `/` (or `.`) means a directory. Relative paths are from `cwd`. */
  dest: string;
  /** Image WORKDIR for a relative dest (default `/`). */
  cwd?: string | undefined;
  chown?: Owner | undefined;
  /** Keep the sources' uid/gid when no chown (COPY --from); default false → 0:0. */
  preserveOwnership?: boolean | undefined;
  /** Octal number / string, or symbolic (`u+x,go-w`). Applies to files and directories. */
  chmod?: number | string | undefined;
  exclude?: readonly string[] | undefined;
  parents?: boolean | undefined;
  /**
   * A top-level source symlink is always followed inside srcRoot and links
   * inside copied directories never are (BuildKit's Dockerfile COPY); the
   * option exists to say so.
   */
  followSymlinksInPattern?: false | undefined;
  ignore?: PathMatcher | undefined;
  mode?: 'copy' | 'add' | undefined;
  signal?: AbortSignal | undefined;
}

interface Ctx {
  options: CopyOptions;
  writer: DestWriter;
  chmod: ModeMapper | undefined;
  /** `dev:ino` of multiply-linked source files → the host path of their first copy. */
  links: Map<string, string>;
  copied: number;
}

export async function copy(options: CopyOptions): Promise<{ copied: number }> {
  const { signal } = options;
  throwIfAborted(signal);
  const destIsDirSyntax = /(^|\/)\.?$/.test(options.dest) || options.dest.endsWith('/.');
  const destPath = clean(options.dest.startsWith('/') ? options.dest : posix.join(options.cwd ?? '/', options.dest));
  if (options.srcPatterns.length > 1 && !destIsDirSyntax) throw new CopyDestNotDirError();

  const exclude = options.exclude?.length ? createExcludeMatcher(options.exclude) : undefined;
  const selected: Array<{ raw: string; source: SelectedSource }> = [];
  for (const raw of options.srcPatterns) {
    const sources = await selectSources({ root: options.srcRoot, patterns: [raw], ignore: options.ignore, exclude, signal });
    for (const source of sources) selected.push({ raw, source });
  }
  const destIsDir = destIsDirSyntax || options.parents === true || (selected.length > 1 ? true : await isDir(options.destRoot, destPath));
  if (selected.length > 1 && !destIsDirSyntax && !(await isDir(options.destRoot, destPath))) throw new CopyDestNotDirError();

  const ctx: Ctx = {
    options,
    writer: new DestWriter(options.destRoot, options.chown ?? { uid: 0, gid: 0 }, signal),
    chmod: options.chmod === undefined ? undefined : parseChmod(options.chmod),
    links: new Map(),
    copied: 0,
  };
  for (const { raw, source } of selected) {
    const top = source.entries[0]!;
    const srcAbs = hostOf(options.srcRoot, top.real);
    if (options.mode === 'add' && top.stat.isFile() && !options.parents) {
      const kind = await detectArchive(srcAbs);
      if (kind) {
        await ctx.writer.ensureDir(destPath);
        ctx.copied += await extractTar(await openTarStream(srcAbs, kind, signal), { writer: ctx.writer, destDir: destPath, chown: options.chown, signal });
        continue;
      }
    }
    let target: string;
    if (options.parents) target = posix.join(destPath, keptPath(raw, top.rel));
    else if (top.stat.isDirectory()) target = destPath;
    else target = destIsDir ? posix.join(destPath, posix.basename(top.rel)) : destPath;
    for (const entry of source.entries) {
      throwIfAborted(signal);
      await copyEntry(ctx, entry, entry.relToSource ? posix.join(target, entry.relToSource) : target, entry === top);
    }
  }
  await ctx.writer.finish();
  return { copied: ctx.copied };
}

async function copyEntry(ctx: Ctx, entry: SelectedEntry, inImage: string, isTop: boolean): Promise<void> {
  const { options, writer } = ctx;
  const abs = hostOf(options.srcRoot, entry.real);
  const st = entry.stat;
  const meta: EntryMeta = {
    mode: Number(st.mode) & 0o7777,
    uid: options.chown?.uid ?? (options.preserveOwnership ? Number(st.uid) : 0),
    gid: options.chown?.gid ?? (options.preserveOwnership ? Number(st.gid) : 0),
    mtime: Number(st.mtimeNs) / 1e9,
  };
  if (ctx.chmod && !st.isSymbolicLink()) meta.mode = ctx.chmod(meta.mode, st.isDirectory());
  if (st.isDirectory()) {
    // The top-level destination of a directory source is never given the source's metadata
    // (BuildKit's overwriteTargetMetadata=false): an existing one keeps its own, a new one is
    // made like a created parent, 0755 and owned by --chown or root (fsutil's prepareTargetDir
    // MkdirAll), whatever the source's mode, --chmod or owner.
    if (isTop) await writer.ensureDir(inImage);
    else await writer.ensureDir(inImage, meta);
  } else if (st.isSymbolicLink()) {
    await writer.writeSymlink(inImage, await readlink(abs), meta);
  } else if (st.isFile()) {
    const key = `${st.dev}:${st.ino}`;
    const first = st.nlink > 1n ? ctx.links.get(key) : undefined;
    if (first) await writer.writeHardlink(inImage, first);
    else {
      const handle = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const host = await writer.writeFile(inImage, handle.createReadStream({ autoClose: false }), meta);
        if (st.nlink > 1n) ctx.links.set(key, host);
      } finally {
        await handle.close();
      }
    }
  } else return; // sockets, FIFOs and devices are not copied from a context
  ctx.copied++;
}

/** For --parents: the source's path below its pattern's `/./` pivot, or its whole root-relative path. */
export function keptPath(rawPattern: string, rel: string): string {
  const parts = rawPattern.split('/').filter((p) => p !== '');
  while (parts[0] === '.') parts.shift();
  const pivot = parts.indexOf('.');
  const drop = pivot < 0 ? 0 : parts.slice(0, pivot).filter((p) => p !== '.').length;
  return rel.split('/').slice(drop).join('/');
}

async function isDir(root: string, inImage: string): Promise<boolean> {
  const host = await resolveInRoot(root, inImage, { followFinal: true });
  return lstat(host).then((s) => s.isDirectory(), () => false);
}

function hostOf(root: string, rel: string): string {
  return rel ? `${root}/${rel}` : root;
}
