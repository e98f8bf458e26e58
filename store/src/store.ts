/**
 * One store directory, opened: the facade the CLI, the builder and the server
 * hold. It only wires the role implementations together; each role is still
 * usable alone. The directory is an OCI image layout (oci-layout, index.json,
 * blobs/) with tsbuild's own state beside it (snapshots/, cache/, leases/,
 * ingest/, cache-mounts/, layer-variants/, blob-sources/).
 */
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defaultStoreRoot } from '@tsbuild/core';
import { BlobSources } from './content/blob-sources.js';
import { LocalContentStore } from './content/local-content-store.js';
import { du } from './gc/du.js';
import { fsck } from './gc/fsck.js';
import { reclaimStoreLeftovers } from './gc/leftovers.js';
import { prune, type ReleasedResources } from './gc/prune.js';
import { initLayout } from './layout/oci-layout.js';
import { OciLayoutImageStore } from './layout/oci-layout-image-store.js';
import { FileLeaseManager } from './lease/file-lease-manager.js';
import { createSnapshotter, type SelectedSnapshotter, type SnapshotterKind } from './snapshot/create-snapshotter.js';
import type { Cancellable, DiskUsage, FsckReport, GcRootProvider, PruneResult } from './types.js';

export interface OpenStoreOptions {
  /** Default: core's defaultStoreRoot() ($TSBUILD_ROOT, else ~/.local/share/tsbuild). */
  root?: string;
  snapshotter?: SnapshotterKind;
  onWarning?: (warning: { code: string; message: string }) => void;
}

export interface Store {
  readonly root: string;
  readonly content: LocalContentStore;
  readonly images: OciLayoutImageStore;
  readonly leases: FileLeaseManager;
  /** Which registry repositories are known to hold which blobs (for cross-repository mounts). */
  readonly sources: BlobSources;
  /** The snapshotter, created (and overlayfs probed) on first use. */
  snapshotter(options?: Cancellable): Promise<SelectedSnapshotter>;
  /** `roots`: what holders outside the store keep (the build cache); required so that none is forgotten. */
  prune(options: Cancellable & { graceMs?: number; roots: readonly GcRootProvider[]; beforeMark?: () => Promise<ReleasedResources | void> }): Promise<PruneResult>;
  du(options: Cancellable & { roots: readonly GcRootProvider[] }): Promise<DiskUsage[]>;
  fsck(options?: Cancellable & { repair?: boolean }): Promise<FsckReport>;
  /** Removes what dead processes left (their leases, ingest files, temporary snapshots); cheap when there is nothing. */
  reclaim(): Promise<void>;
}

export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const root = resolve(options.root ?? defaultStoreRoot());
  await mkdir(root, { recursive: true });
  await initLayout(root);
  const content = new LocalContentStore(root);
  const images = new OciLayoutImageStore(root);
  const leases = new FileLeaseManager(root);
  let snapshotter: Promise<SelectedSnapshotter> | undefined;
  const getSnapshotter = (o: Cancellable = {}) =>
    (snapshotter ??= createSnapshotter(root, { kind: options.snapshotter ?? 'auto', onWarning: options.onWarning, signal: o.signal }));
  const roles = { root, content, images, leases };
  return {
    ...roles,
    sources: new BlobSources(root),
    snapshotter: getSnapshotter,
    async prune(o) {
      return prune({ ...roles, snapshotter: await getSnapshotter(o), ...o });
    },
    du: async (o) => du({ ...roles, snapshotter: await getSnapshotter(o), ...o }),
    fsck: async (o = {}) => fsck({ ...roles, snapshotter: await getSnapshotter(o), ...o }),
    reclaim: () => reclaimStoreLeftovers({ root, leases, snapshotter: () => getSnapshotter() }),
  };
}
