/**
 * Applying a layer tar onto a directory, safely: nothing is ever written
 * outside `dir` (see tar-safe-path.ts for the path rules), hostile entries
 * are refused with UnsafeLayerEntryError (code LAYER_UNSAFE_ENTRY) naming the
 * entry, and a malformed or truncated tar is an InvalidLayerTarError (code
 * LAYER_TAR_INVALID). On an error, entries before the failing one stay
 * applied: callers apply into a fresh snapshot and discard it on failure.
 *
 * Whiteouts:
 *  - 'apply' (default) flattens: `.wh.name` removes `name`; `.wh..wh..opq`
 *    removes what the directory held before this layer (everything not
 *    written by this layer, recursively), so layers stack into one tree;
 *  - 'overlay' writes overlayfs whiteouts instead (char device 0/0 for
 *    `.wh.name`, xattr `trusted.overlay.opaque=y` for the opaque marker) so
 *    `dir` can serve as an overlay lower layer.
 */
import { lstat, lutimes, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { InternalError, InvalidArgumentError, throwIfAborted, TsbuildError } from '@tsbuild/core';
import { UnsafeLayerEntryError, type LayerWarning } from './tar-errors.js';
import { readTar, type TarReadEntry } from './tar-read.js';
import { normalizeEntryPath, resolveParent } from './tar-safe-path.js';
import * as write from './tar-apply-entry.js';
import { OVERLAY_OPAQUE_XATTR, parseWhiteout } from './whiteout.js';
import { setXattr } from './xattr.js';

export interface ApplyLayerOptions {
  whiteouts?: 'apply' | 'overlay';
  signal?: AbortSignal;
  /** Create char/block device nodes (refused by default; a 0/0 char device, an overlay whiteout, is always allowed). */
  allowDevices?: boolean;
  onWarning?: (w: LayerWarning) => void;
}

export interface ApplyLayerResult {
  /** Tar entries applied, whiteouts included. */
  entries: number;
  /** Bytes of regular-file content written. */
  bytes: number;
}

export async function applyLayer(dir: string, tar: Readable, options: ApplyLayerOptions = {}): Promise<ApplyLayerResult> {
  const root = resolve(dir);
  const rootStat = await lstat(root);
  if (!rootStat.isDirectory()) throw new InvalidArgumentError(`apply target ${root} is not a directory`, { code: 'LAYER_APPLY_TARGET' });
  const state: ApplyState = {
    root,
    mode: options.whiteouts ?? 'apply',
    allowDevices: options.allowDevices ?? false,
    written: new Set(),
    ctx: { signal: options.signal, warn: options.onWarning ?? (() => {}), dirTimes: [] },
  };
  const result = { entries: 0, bytes: 0 };
  try {
    for await (const entry of readTar(tar, { signal: options.signal })) {
      throwIfAborted(options.signal);
      try {
        result.bytes += await applyEntry(entry, state);
      } catch (err) {
        if (err instanceof TsbuildError || (err as Error).name === 'AbortError') throw err;
        throw new InternalError(`applying layer entry ${JSON.stringify(entry.path)}: ${(err as Error).message}`, { code: 'LAYER_APPLY_FAILED', cause: err });
      }
      result.entries++;
    }
  } finally {
    tar.destroy();
  }
  // Deepest first, after all contents: writing into a directory changes its mtime.
  // lutimes: a directory may have been replaced by a symlink later in the layer; never follow it.
  for (const { path, mtime } of state.ctx.dirTimes.reverse()) {
    await lutimes(path, mtime, mtime).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  return result;
}

interface ApplyState {
  root: string;
  mode: 'apply' | 'overlay';
  allowDevices: boolean;
  /** Rel paths written (or created as parents) by this layer: what an opaque whiteout keeps. */
  written: Set<string>;
  ctx: write.WriteContext;
}

async function applyEntry(e: TarReadEntry, s: ApplyState): Promise<number> {
  const p = normalizeEntryPath(e.path);
  if (p.absolute) s.ctx.warn({ code: 'LAYER_ABSOLUTE_PATH', message: 'leading "/" stripped; applied relative to the root', entry: e.path });
  if (p.components.length === 0) {
    if (e.type !== 'Directory') throw new UnsafeLayerEntryError(e.path, 'a non-directory entry names the root');
    return 0; // the root's own metadata belongs to the snapshot, not the layer
  }
  const base = p.components[p.components.length - 1]!;
  const whiteout = parseWhiteout(base);
  const onCreate = (rel: string) => s.written.add(rel);
  if (whiteout?.kind === 'opaque') {
    const dirComponents = p.components.slice(0, -1);
    const parent = await resolveParent(s.root, p.components, e.path, { create: true, onCreate });
    if (s.mode === 'overlay') await setXattr(parent!, OVERLAY_OPAQUE_XATTR, 'y');
    else await removeOld(parent!, dirComponents.join('/'), s);
    return 0;
  }
  if (whiteout?.kind === 'remove') {
    if (whiteout.name === '' || whiteout.name === '.' || whiteout.name === '..') {
      throw new UnsafeLayerEntryError(e.path, `whiteout names ${JSON.stringify(whiteout.name)}`);
    }
    const parent = await resolveParent(s.root, p.components, e.path, { create: s.mode === 'overlay', onCreate });
    if (parent === undefined) return 0; // nothing there to delete
    if (s.mode === 'overlay') await write.writeOverlayWhiteout(join(parent, whiteout.name), s.ctx);
    else await rm(join(parent, whiteout.name), { recursive: true, force: true });
    return 0;
  }
  const parent = await resolveParent(s.root, p.components, e.path, { create: true, onCreate });
  const target = join(parent!, base);
  s.written.add(p.rel);
  switch (e.type) {
    case 'Directory':
      await write.writeDirectory(e, target, s.ctx);
      return 0;
    case 'File':
      return write.writeFile(e, target, s.ctx);
    case 'SymbolicLink':
      await write.writeSymlink(e, target, s.ctx);
      return 0;
    case 'Link':
      await write.writeHardlink(await hardlinkSource(e, s), target);
      return 0;
    case 'FIFO':
      await write.writeSpecial(e, target, s.ctx);
      return 0;
    case 'CharacterDevice':
    case 'BlockDevice': {
      const whiteoutDevice = e.type === 'CharacterDevice' && e.devmajor === 0 && e.devminor === 0;
      if (!whiteoutDevice && !s.allowDevices) throw new UnsafeLayerEntryError(e.path, `device node ${e.devmajor}:${e.devminor} not allowed`);
      if (whiteoutDevice) await write.writeOverlayWhiteout(target, s.ctx);
      else await write.writeSpecial(e, target, s.ctx);
      return 0;
    }
    default:
      s.written.delete(p.rel);
      s.ctx.warn({ code: 'LAYER_UNSUPPORTED_ENTRY', message: `entry type ${JSON.stringify(e.typeflag)} skipped`, entry: e.path });
      return 0;
  }
}

/** The existing in-root non-directory a hardlink entry points to. Absolute and `..` targets are refused. */
async function hardlinkSource(e: TarReadEntry, s: ApplyState): Promise<string> {
  if (e.linkpath.startsWith('/')) throw new UnsafeLayerEntryError(e.path, `hardlink target ${JSON.stringify(e.linkpath)} is absolute`);
  let lp;
  try {
    lp = normalizeEntryPath(e.linkpath, e.path);
  } catch {
    throw new UnsafeLayerEntryError(e.path, `hardlink target ${JSON.stringify(e.linkpath)} escapes the root`);
  }
  if (lp.components.length === 0) throw new UnsafeLayerEntryError(e.path, 'hardlink to the root');
  const parent = await resolveParent(s.root, lp.components, e.path, { create: false });
  const source = parent === undefined ? undefined : join(parent, lp.components[lp.components.length - 1]!);
  const stat = source === undefined ? undefined : write.lstatOrUndefined(source);
  if (stat === undefined) throw new UnsafeLayerEntryError(e.path, `hardlink target ${JSON.stringify(e.linkpath)} does not exist in the root`);
  if (stat.isDirectory()) throw new UnsafeLayerEntryError(e.path, `hardlink target ${JSON.stringify(e.linkpath)} is a directory`);
  return source!;
}

/** Removes everything under `abs` not written by this layer, descending into directories it kept. */
async function removeOld(abs: string, rel: string, s: ApplyState): Promise<void> {
  for (const name of await readdir(abs)) {
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const child = join(abs, name);
    if (!s.written.has(childRel)) await rm(child, { recursive: true, force: true });
    else if ((await lstat(child)).isDirectory()) await removeOld(child, childRel, s);
  }
}
