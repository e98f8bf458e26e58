/**
 * The overlayfs snapshotter (containerd's overlay snapshotter, on-disk layout
 * and mounts): each snapshot holds only its own changes; an active snapshot
 * is mounted as an overlay with its parents' fs dirs as lower dirs (nearest
 * first) and its own fs dir as the upper dir.
 */
import { mkdir } from 'node:fs/promises';
import { FailedPreconditionError } from '@tsbuild/core';
import type { Mount, SnapshotKind } from '../types.js';
import { DiskSnapshotter, bindMount } from './disk-snapshotter.js';

const MAX_OPTIONS = 4096;

export class OverlaySnapshotter extends DiskSnapshotter {
  readonly kind = 'overlay' as const;

  protected async populate(id: number, kind: SnapshotKind): Promise<void> {
    if (kind === 'active') await mkdir(this.layout(id).work, { recursive: true });
  }

  protected buildMounts(id: number, kind: SnapshotKind, parents: number[]): Mount[] {
    const mounts = this.overlayMounts(id, kind, parents);
    const data = mounts[0]!.options.join(',');
    // The kernel copies mount options into one page; longer ones fail with a bare EINVAL at mount time.
    if (data.length >= MAX_OPTIONS) {
      throw new FailedPreconditionError(
        `overlay mount options of ${data.length} bytes exceed one page (${parents.length} parent layers under ${this.root}); use a shorter store root or the copy snapshotter`,
        { code: 'STORE_OVERLAY_OPTIONS_TOO_LONG' },
      );
    }
    return mounts;
  }

  private overlayMounts(id: number, kind: SnapshotKind, parents: number[]): Mount[] {
    const own = this.layout(id);
    if (kind === 'active') {
      if (parents.length === 0) return [bindMount(own.fs, false)];
      return [{ type: 'overlay', source: 'overlay', options: ['index=off', this.lowerdir(parents), `upperdir=${own.fs}`, `workdir=${own.work}`] }];
    }
    // A view sees its parent chain; a committed snapshot, itself over its parents. Both read-only.
    const layers = kind === 'committed' ? [id, ...parents] : parents;
    if (layers.length === 0) return [bindMount(own.fs, true)];
    if (layers.length === 1) return [bindMount(this.layout(layers[0]!).fs, true)];
    return [{ type: 'overlay', source: 'overlay', options: ['ro', 'index=off', this.lowerdir(layers)] }];
  }

  private lowerdir(ids: number[]): string {
    return `lowerdir=${ids.map((i) => this.layout(i).fs).join(':')}`;
  }
}
