/**
 * `cache-mounts=true`: the contents of `RUN --mount=type=cache` directories
 * travel with the remote cache, one layer per cache id, so a fresh CI machine
 * starts with a warm package-manager cache. Beyond BuildKit, whose remote
 * caches hold only results (moby/buildkit#1512, #1474).
 *
 * The directory exported is the executor's shared instance of the id
 * (runtime's CacheMountManager: `<store>/cache-mounts/<sha256(id)>/0`).
 * Restoring fills that directory only when it does not exist yet: a
 * machine's own cache is never overwritten by an older one. It is unpacked
 * beside it and renamed into place, so a reader never sees half of it.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Compression, Descriptor, Digest } from '@tsbuild/core';
import { applyLayer, openLayer, packDirectory, writeLayer, type Store } from '@tsbuild/store';
import type { Definition } from '../definition/types.js';

export interface PackedMount {
  id: string;
  descriptor: Descriptor;
  diffID: Digest;
}

/** The cache ids the build's RUN steps mount. */
export function cacheMountIds(definition: Definition): string[] {
  const ids = new Set<string>();
  for (const v of definition.vertices) {
    if (v.op.op !== 'exec') continue;
    for (const m of v.op.mounts) if (m.type === 'cache') ids.add(m.id);
  }
  return [...ids];
}

/** The instance directory of a cache id (CacheMountManager's layout). */
export function cacheMountDir(baseDir: string, id: string): string {
  return join(baseDir, createHash('sha256').update(id).digest('hex'), '0');
}

/** Each id's directory, when it exists and is not empty, as a layer in the store. */
export async function packCacheMounts(store: Store, baseDir: string, ids: readonly string[], options: { compression: Compression; hold: (blobs: string[]) => Promise<void>; signal?: AbortSignal | undefined }): Promise<PackedMount[]> {
  const packed: PackedMount[] = [];
  for (const id of ids) {
    const dir = cacheMountDir(baseDir, id);
    if ((await readdir(dir).catch(() => [])).length === 0) continue;
    const layer = await writeLayer(packDirectory(dir, options.signal ? { signal: options.signal } : {}), store.content, { compression: options.compression, ...(options.signal ? { signal: options.signal } : {}) });
    await options.hold([layer.descriptor.digest]);
    packed.push({ id, ...layer });
  }
  return packed;
}

/** Fills an id's directory from its layer (already in the store) unless it exists; true when it did. */
export async function restoreCacheMount(store: Store, baseDir: string, mount: PackedMount, signal?: AbortSignal): Promise<boolean> {
  const dir = cacheMountDir(baseDir, mount.id);
  if (await stat(dir).then(() => true, () => false)) return false;
  const keyDir = join(dir, '..');
  await mkdir(keyDir, { recursive: true, mode: 0o700 });
  const temp = await mkdtemp(join(keyDir, '.restore-'));
  try {
    const tar = await openLayer(store.content, mount.descriptor, { verifyDiffID: mount.diffID, ...(signal ? { signal } : {}) });
    await applyLayer(temp, tar, { whiteouts: 'apply', ...(signal ? { signal } : {}) });
    await rename(temp, dir);
    return true;
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    // Another build made it meanwhile: theirs stands.
    if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}
