/**
 * The overlayfs snapshotter (containerd's overlay snapshotter, on-disk layout
 * and mounts): each snapshot holds only its own changes; an active snapshot
 * is mounted as an overlay with its parents' fs dirs as lower dirs (nearest
 * first) and its own fs dir as the upper dir.
 */
import { mkdir } from 'node:fs/promises';
import type { Mount, SnapshotKind } from '../types.js';
import { DiskSnapshotter, bindMount } from './disk-snapshotter.js';

export class OverlaySnapshotter extends DiskSnapshotter {
  readonly kind = 'overlay' as const;

  protected async populate(id: number, kind: SnapshotKind): Promise<void> {
    if (kind === 'active') await mkdir(this.layout(id).work, { recursive: true });
  }

  protected buildMounts(id: number, kind: SnapshotKind, parents: number[]): Mount[] {
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
