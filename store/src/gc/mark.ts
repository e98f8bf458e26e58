import { MediaType, isDigest, throwIfAborted, type Descriptor, type Digest, type ImageConfig } from '@tsbuild/core';
import { readJson } from '../content/helpers.js';
import { imageBlobs } from '../image/image-blobs.js';
import { LayerVariants } from '../image/layer-variants.js';
import { isLeaseLive } from '../lease/file-lease-manager.js';
import { chainIds } from '../snapshot/chain-id.js';
import type { Cancellable, ContentProvider, GcRootProvider, ImageStore, LeaseManager } from '../types.js';

export interface MarkOptions extends Cancellable {
  /** The store directory: with it, the compressed variants of every kept layer are kept too (image/layer-variants.ts). */
  root?: string;
  content: ContentProvider;
  images: ImageStore;
  leases?: LeaseManager;
  /** The holders outside the store (the build cache); `[]` says nothing else holds anything. */
  roots: readonly GcRootProvider[];
}

/** What must survive a sweep. `blobs` maps a digest to the descriptor it was reached by (undefined when reached by a lease or a root provider). */
export interface MarkSet {
  blobs: Map<Digest, Descriptor | undefined>;
  snapshots: Set<string>;
  /** Number of tags marked from. */
  tags: number;
}

/**
 * The mark phase shared by prune and du. Roots: every tag (all blobs its image
 * or index reaches, and the chain ids of every reachable image's layers), every
 * live lease's resources, and what every root provider reports (`gcRoots`).
 * A lease or provider protects exactly the resources it names. Unreadable
 * image configs are skipped: marking less can only be corrected by marking
 * more, never by failing the prune — but an unparsable index.json, or a
 * provider that cannot report, does fail (either would mark too little).
 */
export async function markReachable(options: MarkOptions): Promise<MarkSet> {
  const { content, images, leases, signal } = options;
  const cancel = signal ? { signal } : {};
  const mark: MarkSet = { blobs: new Map(), snapshots: new Set(), tags: 0 };
  for (const record of await images.list()) {
    throwIfAborted(signal);
    mark.tags++;
    for (const desc of await imageBlobs(content, record.target, cancel)) {
      mark.blobs.set(desc.digest, desc);
      if (desc.mediaType !== MediaType.OciConfig && desc.mediaType !== MediaType.DockerConfig) continue;
      const config = await readJson<ImageConfig>(content, desc, cancel).catch(() => undefined);
      const diffIDs = config?.rootfs?.diff_ids;
      if (Array.isArray(diffIDs) && diffIDs.every((d) => typeof d === 'string' && isDigest(d))) {
        for (const id of chainIds(diffIDs)) mark.snapshots.add(id);
      }
    }
  }
  for (const lease of leases ? await leases.list() : []) {
    if (!isLeaseLive(lease)) continue;
    for (const r of lease.resources) {
      if (r.type === 'content') markBlob(mark, r.digest);
      else if (r.type === 'snapshot') mark.snapshots.add(r.key);
    }
  }
  for (const provider of options.roots) {
    throwIfAborted(signal);
    const roots = await provider.gcRoots(cancel);
    for (const b of roots.blobs) markBlob(mark, b);
    for (const s of roots.snapshots) mark.snapshots.add(s);
  }
  if (options.root) await markVariants(mark, new LayerVariants(options.root));
  return mark;
}

/** A kept layer keeps its compressed variants, so the next push of it compresses nothing. */
async function markVariants(mark: MarkSet, variants: LayerVariants): Promise<void> {
  for await (const { source, variant } of variants.entries()) {
    if (variant && mark.blobs.has(source)) markBlob(mark, variant.digest);
  }
}

function markBlob(mark: MarkSet, digest: Digest): void {
  if (!mark.blobs.has(digest)) mark.blobs.set(digest, undefined);
}
