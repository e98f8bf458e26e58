/**
 * Mount-point stubs: when a mount target does not exist in the rootfs, the
 * runtime creates it (an empty file or directory, plus missing parents). Those
 * would end up in every RUN layer, so — like BuildKit's MountStubsCleaner — we
 * note what is missing before the run and afterwards remove what is still an
 * empty stub, deepest first, and restore the parent directory's mtime so the
 * differ does not see it as changed.
 */
import { existsSync, lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveInRootSync } from '@tsbuild/core';
import { sys } from './sys.js';

export interface StubRecord {
  /** Host paths that did not exist before the run, deepest first. */
  paths: string[];
  /** The nearest existing ancestor of each, with its times before the run. */
  parents: Map<string, bigint>;
}

/**
 * Records which components of each `destinations` path are missing under
 * `rootfs`, after resolving symlinks inside it. Synchronous (lstats of a
 * local rootfs, a few dozen per RUN, right before its container starts).
 */
export async function recordStubs(rootfs: string, destinations: string[]): Promise<StubRecord> {
  const missing = new Set<string>();
  const parents = new Map<string, bigint>();
  for (const dest of destinations) {
    // The runtime follows symlinks (inside the root) before creating a mount point, so do we: /var/run → /run.
    const resolved = resolveInRootSync(rootfs, dest, { followFinal: true });
    const parts = resolved.slice(rootfs.length).split('/').filter(Boolean);
    let current = rootfs;
    for (const part of parts) {
      const next = join(current, part);
      const st = lstatSync(next, { throwIfNoEntry: false });
      if (!st) {
        // Only the nearest existing ancestor: `current` is missing itself when a parent was missing too.
        if (!missing.has(current) && !parents.has(current)) {
          parents.set(current, lstatSync(current, { bigint: true }).mtimeNs);
        }
        missing.add(next);
      } else if (st.isSymbolicLink() || !st.isDirectory()) {
        break;
      }
      current = next;
    }
  }
  const paths = [...missing].sort((a, b) => b.split('/').length - a.split('/').length);
  return { paths, parents };
}

/**
 * Removes recorded stubs that are still empty (a 0-byte file, an empty
 * directory) and puts back the mtime of the directories they were made in,
 * to the nanosecond (Node's utimes takes a double and would lose the
 * nanoseconds a differ compares), while the rootfs is still mounted.
 */
export async function removeStubs(record: StubRecord): Promise<void> {
  // Synchronous, like recordStubs: a few lstats and unlinks, which as promises queued behind
  // other steps' fsyncs in the thread pool (5-7 ms per RUN when four finished together).
  for (const path of record.paths) {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (!st) continue;
    try {
      if (st.isDirectory()) {
        if (readdirSync(path).length === 0) rmdirSync(path);
      } else if (st.isFile() && st.size === 0) {
        unlinkSync(path);
      }
    } catch {
      // the process replaced it meanwhile: it is content now, not a stub
    }
  }
  for (const [dir, mtimeNs] of record.parents) {
    // Only when the stub under it is gone, i.e. the process did not keep anything there.
    if (record.paths.some((p) => dirname(p) === dir && existsSync(p))) continue;
    // Only when the time moved: touching an untouched lower dir would itself copy it up.
    const now = lstatSync(dir, { bigint: true, throwIfNoEntry: false });
    if (now && now.mtimeNs !== mtimeNs && mtimeNs >= 0n) sys().setMtime(dir, Number(mtimeNs / 1_000_000_000n), Number(mtimeNs % 1_000_000_000n));
  }
}
