/**
 * Deterministic layer tars from directories: the same tree gives the same
 * bytes. Entries come in walk order (see tar-walk.ts), uname/gname are empty,
 * mtimes are whole seconds clamped to `sourceDateEpoch`, atime/ctime are never
 * written, and the stream ends with two zero blocks.
 *
 *  - packDirectory: the whole tree as one layer (an image's first layer, an
 *    imported rootfs).
 *  - packOverlayDiff: an overlayfs upper dir as an OCI layer diff — overlay
 *    whiteouts (char device 0/0, opaque xattr) become `.wh.` entries.
 */
import { addAbortSignal, Readable } from 'node:stream';
import { FailedPreconditionError } from '@tsbuild/core';
import { clampMtime, entryFromStat, TarOutput, type EmitOptions, type LinkMap } from './tar-emit.js';
import type { TarEntry } from './tar-header.js';
import { walkTree, type WalkItem } from './tar-walk.js';
import { isOverlayWhiteout, OPAQUE_WHITEOUT, OVERLAY_OPAQUE_XATTR, OVERLAY_USER_OPAQUE_XATTR, WHITEOUT_PREFIX } from './whiteout.js';
import { publicXattrs, readAllXattrsSync } from './xattr.js';
import { isUnchangedDir } from './overlay-unchanged.js';

export type PackOptions = EmitOptions;

/** The whole tree under `dir` (not `dir` itself) as a layer tar. */
export function packDirectory(dir: string, options: PackOptions = {}): Readable {
  return toReadable(packTree(dir, options), options);
}

export interface OverlayDiffSource {
  /** The overlay mount's upperdir (not mounted or mounted: it is only read). */
  upperDir: string;
  /**
   * The mount's lowerdirs, top first. Not needed for plain overlay diffs
   * (whiteouts and opaque markers live in the upper dir); upper dirs that
   * depend on the lowers (redirect_dir, metacopy) are refused instead.
   */
  lowerDirs: string[];
}

/** An overlayfs upper dir as an OCI layer diff. */
export function packOverlayDiff(source: OverlayDiffSource, options: PackOptions = {}): Readable {
  return toReadable(packOverlay(source, options), options);
}

export function toReadable(chunks: AsyncGenerator<Buffer>, options: PackOptions): Readable {
  const stream = Readable.from(chunks, { objectMode: false, highWaterMark: 256 * 1024 });
  return options.signal ? addAbortSignal(options.signal, stream) : stream;
}

async function* packTree(dir: string, options: PackOptions): AsyncGenerator<Buffer> {
  const out = new TarOutput(options);
  const links: LinkMap = new Map();
  for (const item of walkTree(dir)) {
    await out.pace();
    const entry = entryFromStat(item.abs, item.rel, item.stat, links, options);
    if (entry) yield* out.entry(entry, item.abs);
  }
  yield* out.end();
}

/** An empty regular file: the tar spelling of a whiteout. */
export function whiteoutEntry(path: string, mtime: number): TarEntry {
  return { path, type: 'File', mode: 0, uid: 0, gid: 0, size: 0, mtime };
}

/** An upper-dir item with all its xattrs, overlay-private ones included (none for symlinks: fs-xattr would follow them). */
interface UpperItem extends WalkItem {
  xattrs: Map<string, Buffer>;
}

async function* packOverlay(source: OverlayDiffSource, options: PackOptions): AsyncGenerator<Buffer> {
  const out = new TarOutput(options);
  const links: LinkMap = new Map();
  // Unchanged directories on the current path, written only if a descendant is.
  const pending: UpperItem[] = [];
  for (const walked of walkTree(source.upperDir)) {
    await out.pace();
    while (pending.length > 0 && !walked.rel.startsWith(`${pending.at(-1)!.rel}/`)) pending.pop();
    if (isOverlayWhiteout(walked.stat)) {
      yield* flushParents(pending, links, out, options);
      yield* out.entry(whiteoutEntry(siblingPath(walked.rel, WHITEOUT_PREFIX), clampMtime(walked.stat, options)));
      continue;
    }
    const { rel, abs, stat } = walked;
    const item: UpperItem = { rel, abs, stat, xattrs: stat.isSymbolicLink() ? new Map() : readAllXattrsSync(abs) };
    refuseLowerDependent(item);
    const opaque = item.stat.isDirectory() && isOpaque(item.xattrs);
    if (item.stat.isDirectory() && !opaque && isUnchangedDir(item.abs, item.rel, source.lowerDirs)) {
      pending.push(item);
      continue;
    }
    const entry = upperEntry(item, links, options);
    if (!entry) continue;
    yield* flushParents(pending, links, out, options);
    yield* out.entry(entry, item.abs);
    if (opaque) yield* out.entry(whiteoutEntry(`${item.rel}/${OPAQUE_WHITEOUT}`, clampMtime(item.stat, options)));
  }
  yield* out.end();
}

async function* flushParents(pending: UpperItem[], links: LinkMap, out: TarOutput, options: PackOptions): AsyncGenerator<Buffer> {
  for (const dir of pending.splice(0)) {
    const entry = upperEntry(dir, links, options);
    if (entry) yield* out.entry(entry, dir.abs);
  }
}

/** The entry of an upper-dir item, with its layer xattrs (undefined for what a layer cannot hold). */
function upperEntry(item: UpperItem, links: LinkMap, options: PackOptions): TarEntry | undefined {
  return entryFromStat(item.abs, item.rel, item.stat, links, options, publicXattrs(item.xattrs));
}

/** Whether overlayfs treats the directory with these xattrs as opaque (whiteout.ts's isOverlayOpaque, from xattrs already read). */
function isOpaque(xattrs: ReadonlyMap<string, Buffer>): boolean {
  return [OVERLAY_OPAQUE_XATTR, OVERLAY_USER_OPAQUE_XATTR].some((name) => xattrs.get(name)?.toString() === 'y');
}

/** `a/b/name` → `a/b/<prefix>name`. */
function siblingPath(rel: string, prefix: string): string {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? `${prefix}${rel}` : `${rel.slice(0, slash + 1)}${prefix}${rel.slice(slash + 1)}`;
}

/** A renamed dir (redirect) or a metadata-only copy-up (metacopy) has its data in a lower: not representable from the upper alone. */
function refuseLowerDependent(item: UpperItem): void {
  if (item.stat.isSymbolicLink()) return;
  for (const name of ['trusted.overlay.redirect', 'trusted.overlay.metacopy', 'user.overlay.redirect', 'user.overlay.metacopy']) {
    if (item.xattrs.has(name)) {
      throw new FailedPreconditionError(`overlay upper entry ${item.rel} has ${name}: mount without redirect_dir/metacopy to diff it`, {
        code: 'LAYER_OVERLAY_UNSUPPORTED',
      });
    }
  }
}
