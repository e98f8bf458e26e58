import { join } from 'node:path';
import { isLayerType } from '@tsbuild/core';
import type { DiskUsage } from '../types.js';
import { ONE_HOUR_MS, filesIn, ingestLeftovers, treeBytes } from './fs-scan.js';
import { markReachable } from './mark.js';
import { unreachableSnapshots, type GcOptions } from './prune.js';

/** The roots' holders: what they keep is not reclaimable, their own files (`diskUsage`) are `cache`. */
export type DuOptions = GcOptions;

/**
 * Disk usage by kind, with what a prune (grace 0) would reclaim. Blobs reached
 * from tags count as `images` (manifests, indexes, configs) or `layers`;
 * blobs reached only by leases or root providers, and unreachable blobs, as
 * `other` (only the unreachable ones are reclaimable). Snapshots are measured
 * by walking their directories, so this costs a tree walk per snapshot.
 */
export async function du(options: DuOptions): Promise<DiskUsage[]> {
  const mark = await markReachable(options);
  const usage = new Map<DiskUsage['kind'], DiskUsage>();
  const add = (kind: DiskUsage['kind'], bytes: number, reclaimable: boolean, count = 1) => {
    const u = usage.get(kind) ?? { kind, count: 0, bytes: 0, reclaimableBytes: 0 };
    u.count += count;
    u.bytes += bytes;
    if (reclaimable) u.reclaimableBytes += bytes;
    usage.set(kind, u);
  };
  for await (const blob of options.content.walk()) {
    const desc = mark.blobs.get(blob.digest);
    if (desc) add(isLayerType(desc.mediaType) ? 'layers' : 'images', blob.size, false);
    else add('other', blob.size, !mark.blobs.has(blob.digest));
  }
  if (options.snapshotter) {
    const unreachable = new Set((await unreachableSnapshots(options.snapshotter, mark, Date.now())).map((s) => s.key));
    for await (const info of options.snapshotter.walk()) {
      add('snapshots', await treeBytes(options.snapshotter.dir(info.key)), unreachable.has(info.key));
    }
  }
  for (const provider of options.roots) {
    const own = await provider.diskUsage(options.signal ? { signal: options.signal } : {});
    if (own.count > 0 || own.bytes > 0) add('cache', own.bytes, false, own.count);
  }
  const stale = new Set((await ingestLeftovers(options.root, ONE_HOUR_MS)).map((f) => f.path));
  for (const f of await filesIn(join(options.root, 'ingest'))) add('ingest', f.size, stale.has(f.path));
  const order: DiskUsage['kind'][] = ['images', 'layers', 'snapshots', 'cache', 'ingest', 'other'];
  return order.flatMap((k) => usage.get(k) ?? []);
}
