/**
 * Whiteouts in their two spellings (OCI image-spec layer.md):
 *  - in a layer tar: an empty file `.wh.<name>` deletes `<name>`; a file
 *    `<dir>/.wh..wh..opq` hides everything `<dir>` held in lower layers;
 *  - on an overlayfs upper/lower dir: a char device 0/0 named `<name>`; a
 *    directory with xattr `trusted.overlay.opaque=y` (`user.overlay.opaque=y`
 *    on userxattr mounts).
 */
import type { Stats } from 'node:fs';
import { getXattr } from './xattr.js';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';
export const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';
export const OVERLAY_USER_OPAQUE_XATTR = 'user.overlay.opaque';

/** An overlayfs whiteout: a char device with device number 0/0. */
export function isOverlayWhiteout(stat: Stats): boolean {
  return stat.isCharacterDevice() && stat.rdev === 0;
}

/** Whether overlayfs treats directory `path` as opaque. */
export async function isOverlayOpaque(path: string): Promise<boolean> {
  for (const name of [OVERLAY_OPAQUE_XATTR, OVERLAY_USER_OPAQUE_XATTR]) {
    const value = await getXattr(path, name);
    if (value?.toString() === 'y') return true;
  }
  return false;
}

export type TarWhiteout = { kind: 'opaque' } | { kind: 'remove'; name: string } | undefined;

/** Classifies a tar entry's base name: an opaque marker, a removal, or neither. */
export function parseWhiteout(base: string): TarWhiteout {
  if (base === OPAQUE_WHITEOUT) return { kind: 'opaque' };
  if (base.startsWith(WHITEOUT_PREFIX)) return { kind: 'remove', name: base.slice(WHITEOUT_PREFIX.length) };
  return undefined;
}
