/**
 * The fallback snapshotter where overlayfs is not available (no kernel
 * support, an overlay upper dir on overlayfs, some rootless setups): every
 * snapshot is a full tree. Preparing a child copies its parent's tree with
 * `cp -a --reflink=auto` (owners, modes, xattrs, device nodes, hard links kept;
 * copy-on-write clones where the filesystem has them); mounts are plain binds.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { InternalError } from '@tsbuild/core';
import type { Mount, SnapshotKind } from '../types.js';
import { DiskSnapshotter, bindMount } from './disk-snapshotter.js';

const run = promisify(execFile);

export class CopySnapshotter extends DiskSnapshotter {
  readonly kind = 'copy' as const;
  /** Why `createSnapshotter` fell back to copying, when it did. */
  fallbackReason: string | undefined;

  protected async populate(id: number, kind: SnapshotKind, parents: number[]): Promise<void> {
    // A view reads the committed parent's tree in place (committed trees never change).
    if (kind !== 'active' || parents.length === 0) return;
    const from = this.layout(parents[0]!).fs;
    const to = this.layout(id).fs;
    try {
      await run('cp', ['-a', '--reflink=auto', `${from}/.`, `${to}/`]);
    } catch (err) {
      throw new InternalError(`copying snapshot tree ${from} failed: ${(err as { stderr?: string }).stderr ?? String(err)}`, {
        code: 'STORE_SNAPSHOT_COPY_FAILED',
        cause: err,
      });
    }
  }

  protected buildMounts(id: number, kind: SnapshotKind, parents: number[]): Mount[] {
    if (kind === 'active') return [bindMount(this.layout(id).fs, false)];
    if (kind === 'committed') return [bindMount(this.layout(id).fs, true)];
    return [bindMount(this.layout(parents[0] ?? id).fs, true)];
  }
}
