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
 * - directories the copy creates (parents, a new top-level destination of a
 *   directory source) are owned by `chown` or root and get an octal `chmod`'s
 *   mode, else 0755 (fsutil Copy / prepareTargetDir MkdirAll, since fsutil
 *   #228 for BuildKit #4945; BuildKit 0.8 made them 0755 whatever --chmod);
 * - a source with wildcards may match nothing: it copies nothing (and makes
 *   no destination); a plain source that is missing is an error (select.ts);
 * - a file copied to a `dest` that is not a directory is written where
 *   `dest` resolves inside destRoot, following its symlinks (fsutil Copy's
 *   `fs.RootPath(dstRoot, dst)`): onto `/link -> /target` the content lands
 *   in `/target` and `/link` stays; a symlink met *inside* a directory dest
 *   is replaced by a file, never followed, and one met by a directory of the
 *   copied tree fails the copy (fsutil copyDirectoryOnly: "cannot copy to
 *   non-directory"), as BuildKit does;
 * - modes kept unless `chmod`; mtimes kept; symlinks inside a copied
 *   directory copied as symlinks; FIFOs and device nodes made again by type
 *   with mknod, never opened (fsutil copy.go copyDevice); sockets skipped;
 * - hard links among the files of one source (a directory, one wildcard
 *   match) stay hard links; files of different sources or matches are copied
 *   on their own (BuildKit's docopy runs one fsutil Copy, with its own inode
 *   map, per match of each source), so links across them are not kept;
 * - `parents` (COPY --parents) keeps each selected entry's path below the
 *   root, or below the `/./` pivot of its pattern, whose rest is an include
 *   pattern with .dockerignore syntax (`**`; select.ts visitParents);
 * - ADD (`mode: 'add'`) extracts a source that is a tar (plain, gzip, bzip2,
 *   xz, zstd, detected by content: archive.ts) into dest instead of copying
 *   it; any other file is copied (BuildKit's AttemptUnpackDockerCompatibility).
 * Every write goes through DestWriter: nothing lands outside destRoot.
 *
 * Small entries are copied with synchronous calls, large files in the kernel
 * (see copySource).
 */
import { constants, existsSync, readlinkSync, type BigIntStats } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { posix } from 'node:path';
import { throwIfAborted } from '@tsbuild/core';
import { selectSources, type SelectedEntry, type SelectedSource } from '../context/select.js';
import { createExcludeMatcher, type PathMatcher } from '../context/exclude-matcher.js';
import { readSmallFileSync } from '../context/hash-file.js';
import { DestWriter, clean, type EntryMeta, type Owner } from './dest-writer.js';
import { octalChmod, parseChmod, type ModeMapper } from './chmod.js';
import { detectArchive, openTarStream } from './archive.js';
import { extractTar } from './extract.js';
import { resolveInRoot } from '@tsbuild/core';
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
  /** `dev:ino` of multiply-linked files of the source being copied → the host path of their first copy. */
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
    const sources = await selectSources({ root: options.srcRoot, patterns: [raw], ignore: options.ignore, exclude, parents: options.parents, signal });
    for (const source of sources) selected.push({ raw, source });
  }
  const destIsDir = destIsDirSyntax || options.parents === true || (selected.length > 1 ? true : await isDir(options.destRoot, destPath));
  if (selected.length > 1 && !destIsDirSyntax && !(await isDir(options.destRoot, destPath))) throw new CopyDestNotDirError();

  const newDirOwner = options.chown ?? { uid: 0, gid: 0 };
  const ctx: Ctx = {
    options,
    writer: new DestWriter(options.destRoot, { newDirOwner, newDirMode: octalChmod(options.chmod), signal }),
    chmod: options.chmod === undefined ? undefined : parseChmod(options.chmod),
    links: new Map(),
    copied: 0,
  };
  // An archive is extracted into a destination made 0755 whatever --chmod (unpack.go:
  // MkdirAll(dest, 0755, ch)), by go-archive's chrootarchive.Untar, chrooted into that
  // destination: the archive's writes, its links included, resolve inside it (an absolute
  // symlink there restarts at the destination, not at the image root), with tar semantics
  // (extract.ts). Parents the archive does not list are made 0755 root (Unpack's rootUID/GID).
  const unpackers: DestWriter[] = [];
  for (const { source } of selected) {
    const top = source.entries[0]!;
    const srcAbs = hostOf(options.srcRoot, top.real);
    if (options.mode === 'add' && top.stat.isFile() && !options.parents) {
      const kind = await detectArchive(srcAbs, signal);
      if (kind) {
        const { host } = await new DestWriter(options.destRoot, { newDirOwner, signal }).ensureDir(destPath);
        const unpacker = new DestWriter(host, { signal, replaceDirs: true });
        unpackers.push(unpacker);
        ctx.copied += await extractTar(await openTarStream(srcAbs, kind, signal), { writer: unpacker, destDir: '/', chown: options.chown, signal });
        continue;
      }
    }
    // A --parents source is the directory its patterns filter (select.ts visitParents): copied into dest,
    // made even when nothing below it is selected (fsutil's prepareTargetDir).
    let target: string;
    if (options.parents || top.stat.isDirectory()) target = destPath;
    else target = destIsDir ? posix.join(destPath, posix.basename(top.rel)) : await followedInRoot(options.destRoot, destPath);
    ctx.links = new Map();
    await copySource(ctx, source.entries, target);
  }
  await ctx.writer.finish();
  for (const unpacker of unpackers) await unpacker.finish();
  return { copied: ctx.copied };
}

/**
 * Copies one source's entries in order (its top entry first, then its
 * subtree, parents before children), so a directory exists with its owner
 * and mode before anything is created in it, and the first copy of a
 * multiply-linked file is the real file, later ones hard links to it.
 * Directory mtimes are set by writer.finish(), after every write.
 *
 * Directories, symlinks and files up to SMALL_FILE are copied with
 * synchronous calls (microseconds each; their promise forms cost ~10x more:
 * 20,000 small files took ~3.9 s, now ~0.4 s); larger files move
 * asynchronously in the kernel (copyFile). The event loop gets a turn every
 * YIELD_EVERY entries, so progress output and aborts are not held up.
 */
async function copySource(ctx: Ctx, entries: readonly SelectedEntry[], target: string): Promise<void> {
  for (let index = 0; index < entries.length; index++) {
    if (index % YIELD_EVERY === YIELD_EVERY - 1) await new Promise((resolve) => setImmediate(resolve));
    throwIfAborted(ctx.options.signal);
    const entry = entries[index]!;
    const inImage = entry.relToSource ? posix.join(target, entry.relToSource) : target;
    const st = entry.stat;
    if (st.isFile() && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = ctx.links.get(key);
      if (first !== undefined) {
        ctx.writer.writeHardlinkSync(inImage, first);
        ctx.copied++;
      } else ctx.links.set(key, await copyFile(ctx, entry, inImage));
      continue;
    }
    await copyEntry(ctx, entry, inImage, index === 0);
  }
}

const YIELD_EVERY = 256;
/** Files up to this size are read and written whole, synchronously. */
const SMALL_FILE = 1024 * 1024;

async function copyEntry(ctx: Ctx, entry: SelectedEntry, inImage: string, isTop: boolean): Promise<void> {
  const { writer } = ctx;
  const st = entry.stat;
  if (st.isFile()) {
    await copyFile(ctx, entry, inImage);
    return;
  }
  const meta = metaOf(ctx, st);
  if (st.isDirectory()) {
    // The top-level destination of a directory source is never given the source's metadata
    // (BuildKit's overwriteTargetMetadata=false): an existing one keeps its own, a new one is
    // made like a created parent (fsutil's prepareTargetDir MkdirAll): owned by --chown or root,
    // 0755 or an octal --chmod's mode, whatever the source's mode or owner.
    // A directory of the tree meets a symlink there: an error, never followed (copyDirectoryOnly).
    // One --parents selects only for what is below it gets its metadata only if made here.
    if (isTop) writer.ensureDirSync(inImage);
    else if (!entry.parentOnly) writer.ensureDirSync(inImage, meta, 'nofollow');
    else if (writer.ensureDirSync(inImage, undefined, 'nofollow').created) writer.ensureDirSync(inImage, meta);
  } else if (st.isSymbolicLink()) {
    writer.writeSymlinkSync(inImage, readlinkSync(hostOf(ctx.options.srcRoot, entry.real)), meta);
  } else if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
    // Recreated by type, never read (fsutil copy/copy.go copyDevice; the context receiver's
    // diskwriter.go handleTarTypeBlockCharFifo): mode, owner and mtime as any other entry.
    writer.writeSpecialSync(inImage, st, meta);
  } else return; // sockets are not copied
  ctx.copied++;
}

/**
 * Whether a descriptor can be reopened through /proc/self/fd (DestWriter.copyFile).
 * Without /proc, large files are streamed through a read and a write per chunk.
 */
const canReopenFd = existsSync('/proc/self/fd');

/**
 * Copies a regular file; returns its host path in the destination. The source
 * is opened with O_NOFOLLOW: if it was replaced by a symlink since it was
 * selected, this fails rather than reading through it.
 */
async function copyFile(ctx: Ctx, entry: SelectedEntry, inImage: string): Promise<string> {
  const meta = metaOf(ctx, entry.stat);
  const src = hostOf(ctx.options.srcRoot, entry.real);
  if (entry.stat.size <= SMALL_FILE) {
    const data = readSmallFileSync(src, Number(entry.stat.size));
    if (data) {
      const host = ctx.writer.writeFileSync(inImage, data, meta);
      ctx.copied++;
      return host;
    }
  }
  const handle = await open(src, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const host = canReopenFd
      ? await ctx.writer.copyFile(inImage, handle, Number(entry.stat.mode) & 0o7777, meta)
      : await ctx.writer.writeFile(inImage, handle.createReadStream({ autoClose: false }), meta);
    ctx.copied++;
    return host;
  } finally {
    await handle.close();
  }
}


/** Mode, owner and mtime an entry gets in the destination. */
function metaOf(ctx: Ctx, st: BigIntStats): EntryMeta {
  const { options } = ctx;
  const meta: EntryMeta = {
    mode: Number(st.mode) & 0o7777,
    uid: options.chown?.uid ?? (options.preserveOwnership ? Number(st.uid) : 0),
    gid: options.chown?.gid ?? (options.preserveOwnership ? Number(st.gid) : 0),
    mtime: Number(st.mtimeNs) / 1e9,
  };
  if (ctx.chmod && !st.isSymbolicLink()) meta.mode = ctx.chmod(meta.mode, st.isDirectory());
  return meta;
}

/** The in-image path `inImage` names once its symlinks, the last one included, are resolved inside `root`. */
async function followedInRoot(root: string, inImage: string): Promise<string> {
  const host = await resolveInRoot(root, inImage, { followFinal: true });
  const base = root.length > 1 ? root.replace(/\/+$/, '') : root;
  return clean(host.slice(base.length));
}

async function isDir(root: string, inImage: string): Promise<boolean> {
  const host = await resolveInRoot(root, inImage, { followFinal: true });
  return lstat(host).then((s) => s.isDirectory(), () => false);
}

function hostOf(root: string, rel: string): string {
  return rel ? `${root}/${rel}` : root;
}
