/**
 * Extended attributes, by path, tolerant of filesystems without xattr support
 * (tmpfs without user xattrs, some bind mounts): there, listing yields nothing
 * and getting yields undefined. Setting still throws, the caller decides
 * whether that is fatal.
 *
 * Reading is synchronous for the packers (see tar-walk.ts for why): a
 * listxattr/getxattr on a local filesystem takes microseconds, while the
 * promise-based call costs a thread-pool round trip and a promise (fs-xattr's
 * async list took ~1.05 s of main-thread time for 20,000 entries, ~50 µs
 * each). getXattr stays async for whiteout.ts's callers.
 *
 * Note: these calls follow a symlink in the final component (fs-xattr has no
 * l* variants). Callers never pass a symlink's path.
 */
import { getAttribute, getAttributeSync, listAttributesSync, setAttribute } from 'fs-xattr';

const UNSUPPORTED = new Set(['ENOTSUP', 'EOPNOTSUPP', 'ENODATA', 'ENOATTR', 'EPERM', 'EACCES']);

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Names of the xattrs on `path`, sorted (so callers are deterministic). */
export function listXattrsSync(path: string): string[] {
  try {
    return listAttributesSync(path).sort();
  } catch (err) {
    if (UNSUPPORTED.has(code(err) ?? '')) return [];
    throw err;
  }
}

/** The xattr's value, or undefined when absent or unsupported. */
export async function getXattr(path: string, name: string): Promise<Buffer | undefined> {
  try {
    return await getAttribute(path, name);
  } catch (err) {
    if (UNSUPPORTED.has(code(err) ?? '')) return undefined;
    throw err;
  }
}

/** getXattr, synchronously. */
export function getXattrSync(path: string, name: string): Buffer | undefined {
  try {
    return getAttributeSync(path, name);
  } catch (err) {
    if (UNSUPPORTED.has(code(err) ?? '')) return undefined;
    throw err;
  }
}

export async function setXattr(path: string, name: string, value: Buffer | string): Promise<void> {
  await setAttribute(path, name, value);
}

/**
 * Xattrs that belong to overlayfs itself (opaque markers, redirects, origin
 * file handles, metacopy) and never travel in a layer.
 */
export function isOverlayPrivateXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}

/** All xattrs of `path` except overlay-private ones, by name (sorted). */
export function readXattrsSync(path: string): Map<string, Buffer> {
  return publicXattrs(readAllXattrsSync(path));
}

/**
 * Every xattr of `path`, overlay-private ones included, by name (sorted): one
 * list call, then one get per name actually present (usually none). Callers
 * that need to know about overlay markers (opaque, redirect, metacopy) look
 * them up in the result instead of asking for each by name, which costs a
 * syscall and, when absent (the usual case), an Error built for it. Same
 * answers: listxattr shows `trusted.*` names exactly when getxattr could read
 * them (CAP_SYS_ADMIN).
 */
export function readAllXattrsSync(path: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of listXattrsSync(path)) {
    const value = getXattrSync(path, name);
    if (value !== undefined) out.set(name, value);
  }
  return out;
}

/** `xattrs` without the overlay-private ones (those never travel in a layer). */
export function publicXattrs(xattrs: ReadonlyMap<string, Buffer>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [name, value] of xattrs) if (!isOverlayPrivateXattr(name)) out.set(name, value);
  return out;
}
