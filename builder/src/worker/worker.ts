/**
 * The worker: what ops need from the host for one build — the store, its
 * snapshotter, the executor, the build's lease, layer options — and the two
 * primitives every layer-making op ends with (commit a diff, mount a tree).
 *
 * Lifecycle: `Worker.open` creates a store lease (every blob and snapshot the
 * build produces or reuses is added to it before it is committed, so a
 * concurrent prune never removes half a build); `close` deletes the lease
 * once the solve has settled (which is after every op it started).
 * Cached results stay alive afterwards through their cache records.
 */
import { randomUUID } from 'node:crypto';
import { formatOwner, type Compression, type Digest } from '@tsbuild/core';
import type { Executor } from '@tsbuild/runtime';
import { sharedCompressPool, type Lease, type LeaseResource, type SelectedSnapshotter, type Store } from '@tsbuild/store';
import { cacheMountLeaseKey } from '../cache-gc/usage.js';

export interface WorkerOptions {
  store: Store;
  executor: Executor;
  compression?: Compression | undefined;
  flavor?: 'oci' | 'docker' | undefined;
  sourceDateEpoch?: number | undefined;
  signal?: AbortSignal | undefined;
}

export class Worker {
  readonly store: Store;
  readonly executor: Executor;
  readonly snapshotter: SelectedSnapshotter;
  readonly compression: Compression | undefined;
  readonly flavor: 'oci' | 'docker';
  readonly sourceDateEpoch: number | undefined;
  private readonly lease: Lease;
  private readonly leased = new Set<string>();
  private leaseWrites: Promise<void> = Promise.resolve();

  private constructor(options: WorkerOptions, snapshotter: SelectedSnapshotter, lease: Lease) {
    this.store = options.store;
    this.executor = options.executor;
    this.snapshotter = snapshotter;
    this.compression = options.compression;
    this.flavor = options.flavor ?? 'oci';
    this.sourceDateEpoch = options.sourceDateEpoch;
    this.lease = lease;
  }

  static async open(options: WorkerOptions): Promise<Worker> {
    const snapshotter = await options.store.snapshotter({ signal: options.signal });
    const lease = await options.store.leases.create({ id: `build-${randomUUID()}`, ttlMs: 24 * 3600_000 });
    return new Worker(options, snapshotter, lease);
  }

  get leaseId(): string {
    return this.lease.id;
  }

  /**
   * Names blobs, snapshots and cache mount ids in the build's lease
   * (serialized: the lease file is rewritten per resource), so that no GC
   * removes them while the build runs.
   */
  hold(resources: { blobs?: readonly string[]; snapshots?: readonly string[]; cacheMounts?: readonly string[] }): Promise<void> {
    const todo: LeaseResource[] = [
      ...(resources.blobs ?? []).map((d) => ({ type: 'content' as const, digest: d as Digest })),
      ...(resources.snapshots ?? []).map((key) => ({ type: 'snapshot' as const, key })),
      ...(resources.cacheMounts ?? []).map((id) => ({ type: 'cache' as const, key: cacheMountLeaseKey(id) })),
    ].filter((r) => {
      const id = r.type === 'content' ? `c:${r.digest}` : r.type === 'snapshot' ? `s:${r.key}` : r.key;
      if (this.leased.has(id)) return false;
      this.leased.add(id);
      return true;
    });
    if (todo.length === 0) return this.leaseWrites;
    this.leaseWrites = this.leaseWrites.then(async () => {
      await this.store.leases.addResources(this.lease.id, todo);
    });
    return this.leaseWrites;
  }

  /**
   * Called by an op that will make a layer, as it starts: the compression
   * threads boot while it runs its container or copy (tens of milliseconds),
   * instead of after, when its layer is waiting for them.
   */
  warmCompression(): void {
    if (this.compression !== 'none') sharedCompressPool().warm();
  }

  /**
   * A unique key for an active snapshot of this build. It names this process
   * (`@<pid>-<start>`, core's ProcessOwner), the owner of the build's lease:
   * when the process dies, the snapshot is an orphan (store's gc/leftovers.ts)
   * without a lease write per step.
   */
  tempKey(kind: string): string {
    return `${kind}-${randomUUID()}@${formatOwner()}`;
  }

  /**
   * Deletes the lease. Call it once no op runs any more: the solver settles a
   * solve (also a canceled or failed one) only after the ops it started have.
   */
  async close(): Promise<void> {
    await this.leaseWrites.catch(() => undefined);
    await this.store.leases.delete(this.lease.id).catch(() => undefined);
  }
}
