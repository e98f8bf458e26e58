/**
 * Image layers → committed snapshots named by chain id (containerd's
 * unpacker). A layer whose chain id is already committed is reused, so images
 * sharing a base unpack it once. A missing one is applied into a fresh active
 * snapshot (unique temp key) on top of the previous chain id and committed
 * under its chain id; the diffID is verified while the tar streams, and a
 * failed or canceled layer leaves no snapshot behind.
 *
 * Concurrent unpacks of the same chain (threads or processes) are safe: both
 * may apply, one commit wins, the loser's AlreadyExistsError means "someone
 * else committed the same content" and it drops its temp snapshot.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { formatOwner, InvalidArgumentError, isAlreadyExists, isNotFound, throwIfAborted, type Descriptor, type Digest } from '@tsbuild/core';
import type { ContentProvider, Snapshotter } from '../types.js';
import { applyLayer } from '../layer/tar-apply.js';
import { openLayer } from '../layer/layer-reader.js';
import { chainIds } from './chain-id.js';

export interface UnpackOptions {
  provider: ContentProvider;
  snapshotter: Snapshotter;
  /** The manifest's layers, bottom first. */
  layers: Descriptor[];
  /** The image config's rootfs.diff_ids, one per layer. */
  diffIDs: Digest[];
  /**
   * How whiteouts are stored. Default: 'apply' (flatten) for a snapshotter whose
   * `kind` is 'copy' (each snapshot is a full tree), else 'overlay' (overlayfs
   * whiteout devices and opaque xattrs in a diff-only layer dir).
   */
  whiteouts?: 'apply' | 'overlay';
  /** Labels for each committed layer snapshot. */
  labels?: Record<string, string>;
  signal?: AbortSignal;
}

export interface UnpackResult {
  /** Chain id of the top layer: the committed snapshot to prepare a rootfs from. */
  chainId: Digest;
  unpacked: number;
  reused: number;
}

export async function unpackLayers(options: UnpackOptions): Promise<UnpackResult> {
  const { provider, snapshotter, layers, diffIDs, signal } = options;
  if (layers.length !== diffIDs.length) {
    throw new InvalidArgumentError(`${layers.length} layers but ${diffIDs.length} diff ids`, { code: 'STORE_UNPACK_LAYER_COUNT' });
  }
  if (layers.length === 0) throw new InvalidArgumentError('an image with no layers has no root filesystem to unpack', { code: 'STORE_UNPACK_NO_LAYERS' });
  const whiteouts = options.whiteouts ?? ((snapshotter as { kind?: string }).kind === 'copy' ? 'apply' : 'overlay');
  const chain = chainIds(diffIDs);
  const result: UnpackResult = { chainId: chain.at(-1)!, unpacked: 0, reused: 0 };
  let parent: string | undefined;
  for (const [i, chainId] of chain.entries()) {
    throwIfAborted(signal);
    if (await isCommitted(snapshotter, chainId)) {
      result.reused++;
    } else {
      const applied = await unpackOne({ ...options, whiteouts, layer: layers[i]!, diffID: diffIDs[i]!, chainId, parent });
      if (applied) result.unpacked++;
      else result.reused++;
    }
    parent = chainId;
  }
  return result;
}

export async function isCommitted(snapshotter: Snapshotter, key: string): Promise<boolean> {
  try {
    return (await snapshotter.stat(key)).kind === 'committed';
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

export interface UnpackOne extends UnpackOptions {
  whiteouts: 'apply' | 'overlay';
  layer: Descriptor;
  diffID: Digest;
  chainId: Digest;
  parent: string | undefined;
}

/** The key of a temporary snapshot a layer is applied into; `@owner` marks it as this process's (gc/leftovers.ts reclaims it if the process dies). */
export function extractKey(chainId: Digest): string {
  return `extract-${randomUUID()}@${formatOwner()} ${chainId}`;
}

/** Applies one layer from the store and commits it as `chainId`. False when a concurrent unpack committed it first. */
export async function unpackOne(o: UnpackOne): Promise<boolean> {
  const { snapshotter, signal } = o;
  const tmpKey = extractKey(o.chainId);
  await snapshotter.prepare(tmpKey, o.parent, o.labels ? { labels: o.labels } : {});
  try {
    const tar = await openLayer(o.provider, o.layer, { verifyDiffID: o.diffID, ...(signal ? { signal } : {}) });
    await applyTar(snapshotter.dir(tmpKey), tar, o.whiteouts, signal);
    throwIfAborted(signal);
    await snapshotter.commit(o.chainId, tmpKey, o.labels ? { labels: o.labels } : {});
    return true;
  } catch (err) {
    await snapshotter.remove(tmpKey).catch(() => undefined);
    if (isAlreadyExists(err) && (await isCommitted(snapshotter, o.chainId))) return false;
    throw err;
  }
}

/** Applies a layer's tar stream into `dir`, resolving once the stream ended (its diffID check passed), not just at the last entry. */
export async function applyTar(dir: string, tar: Readable, whiteouts: 'apply' | 'overlay', signal: AbortSignal | undefined): Promise<void> {
  const ended = finished(tar);
  ended.catch(() => undefined);
  try {
    await applyLayer(dir, tar, { whiteouts, ...(signal ? { signal } : {}) });
    tar.resume();
    await ended;
  } finally {
    tar.destroy();
  }
}
