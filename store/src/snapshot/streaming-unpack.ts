/**
 * Unpacking while the layers download, so a pull takes about the longer of
 * download and unpack, not their sum. The shape is containerd's parallel
 * unpack (core/unpack/unpacker.go, `Unpacker.unpack` with `supportParallel`):
 * each layer is applied into a snapshot of its own with no parent as its blob
 * streams in, and the snapshots are committed in layer order, each rebased onto
 * the previous layer's chain id. That needs a snapshotter whose snapshot holds
 * the layer's diff alone and can commit onto another parent (overlay); on the
 * copy snapshotter, whose snapshots are whole trees, every layer is unpacked
 * after the download, in order, as `unpackLayers` does.
 *
 * A layer's blob is teed: one branch into the content store's ingest, which
 * verifies size and digest, the other into the tar extractor, which verifies
 * the diffID. The snapshot is kept only if both succeed; a wrong digest drops
 * it. A layer whose streamed apply failed is unpacked again from the store in
 * `finish`, which then reports the error the layer really has.
 */
import { PassThrough, type Readable } from 'node:stream';
import { InvalidArgumentError, isAlreadyExists, throwIfAborted, type Digest } from '@tsbuild/core';
import type { BlobInfo, Cancellable, ContentIngester, IngestExpectation } from '../types.js';
import { layerTar } from '../layer/layer-reader.js';
import { chainIds } from './chain-id.js';
import { applyTar, extractKey, isCommitted, unpackOne, type UnpackOptions, type UnpackResult } from './unpack.js';

export class StreamingUnpack {
  private readonly chain: Digest[];
  /** Whether layers can be applied apart from their parents (the snapshotter rebases on commit). */
  private readonly parallel: boolean;
  /** Layer indexes whose blob is (being) applied as it streams. */
  private readonly claimed = new Set<number>();
  /** Layer index → the active snapshot its streamed blob was applied into. */
  private readonly applied = new Map<number, string>();

  constructor(private readonly options: UnpackOptions) {
    if (options.layers.length !== options.diffIDs.length) {
      throw new InvalidArgumentError(`${options.layers.length} layers but ${options.diffIDs.length} diff ids`, { code: 'STORE_UNPACK_LAYER_COUNT' });
    }
    this.chain = chainIds(options.diffIDs);
    this.parallel = (options.snapshotter as { kind?: string }).kind === 'overlay' && options.whiteouts !== 'apply';
  }

  /**
   * Ingests a blob into `content` and, when it is one of the image's layers
   * not yet unpacked, applies it from the same stream.
   */
  async ingest(content: ContentIngester, source: Readable, expected: Required<IngestExpectation>, options: Cancellable = {}): Promise<BlobInfo> {
    const index = await this.claim(expected.digest);
    if (index === undefined) return content.ingest(source, expected, options);
    const [toStore, toTar] = tee(source);
    const applying = this.applyStream(index, toTar);
    let info: BlobInfo;
    try {
      info = await content.ingest(toStore, expected, options);
    } catch (err) {
      toTar.destroy();
      const key = await applying;
      if (key) await this.options.snapshotter.remove(key).catch(() => undefined);
      throw err;
    }
    const key = await applying;
    if (key) this.applied.set(index, key);
    return info;
  }

  /**
   * Commits the layers in order once every blob is in the store: a streamed one
   * rebased onto its parent, a committed chain id reused, any other unpacked
   * from the store now.
   */
  async finish(): Promise<UnpackResult> {
    const { snapshotter, layers, diffIDs, signal } = this.options;
    if (layers.length === 0) throw new InvalidArgumentError('an image with no layers has no root filesystem to unpack', { code: 'STORE_UNPACK_NO_LAYERS' });
    const result: UnpackResult = { chainId: this.chain.at(-1)!, unpacked: 0, reused: 0 };
    const whiteouts = this.parallel ? 'overlay' : this.options.whiteouts ?? ((snapshotter as { kind?: string }).kind === 'copy' ? 'apply' : 'overlay');
    let parent: Digest | undefined;
    for (const [i, chainId] of this.chain.entries()) {
      throwIfAborted(signal);
      const key = this.applied.get(i);
      this.applied.delete(i);
      if (await isCommitted(snapshotter, chainId)) {
        if (key) await snapshotter.remove(key);
        result.reused++;
      } else if (key) {
        if (await this.commitRebased(chainId, key, parent)) result.unpacked++;
        else result.reused++;
      } else if (await unpackOne({ ...this.options, whiteouts, layer: layers[i]!, diffID: diffIDs[i]!, chainId, parent })) {
        result.unpacked++;
      } else {
        result.reused++;
      }
      parent = chainId;
    }
    return result;
  }

  /** Removes the snapshots of layers applied but not committed (a pull that failed). */
  async discard(): Promise<void> {
    const keys = [...this.applied.values()];
    this.applied.clear();
    await Promise.all(keys.map((k) => this.options.snapshotter.remove(k).catch(() => undefined)));
  }

  /** The first layer with this digest that is not claimed yet and not unpacked already; none when applying apart is impossible. */
  private async claim(digest: Digest): Promise<number | undefined> {
    if (!this.parallel) return undefined;
    const index = this.options.layers.findIndex((l, i) => l.digest === digest && !this.claimed.has(i));
    if (index < 0) return undefined;
    this.claimed.add(index);
    return (await isCommitted(this.options.snapshotter, this.chain[index]!)) ? undefined : index;
  }

  /** Applies layer `index` from its blob stream into a parentless snapshot; its key, or undefined when the apply failed (the stream is then drained away). */
  private async applyStream(index: number, blob: Readable): Promise<string | undefined> {
    const { snapshotter, layers, diffIDs, labels, signal } = this.options;
    const key = extractKey(this.chain[index]!);
    try {
      await snapshotter.prepare(key, undefined, labels ? { labels } : {});
    } catch {
      blob.destroy();
      return undefined;
    }
    try {
      await applyTar(snapshotter.dir(key), layerTar(blob, layers[index]!, { verifyDiffID: diffIDs[index]!, ...(signal ? { signal } : {}) }), 'overlay', signal);
      return key;
    } catch {
      blob.destroy();
      await snapshotter.remove(key).catch(() => undefined);
      return undefined;
    }
  }

  /** Commits a streamed layer onto `parent`; false when a concurrent unpack committed the chain id first. */
  private async commitRebased(chainId: Digest, key: string, parent: Digest | undefined): Promise<boolean> {
    const { snapshotter, labels } = this.options;
    try {
      await snapshotter.commit(chainId, key, { ...(labels ? { labels } : {}), ...(parent ? { parent } : {}) });
      return true;
    } catch (err) {
      await snapshotter.remove(key).catch(() => undefined);
      if (isAlreadyExists(err) && (await isCommitted(snapshotter, chainId))) return false;
      throw err;
    }
  }
}

/**
 * Two readers of one stream, each given every chunk; the source waits while
 * either is full. A reader that is destroyed (it gave up) is left out and the
 * other keeps reading; an error of the source destroys both with it.
 */
function tee(source: Readable): [PassThrough, PassThrough] {
  const outs: [PassThrough, PassThrough] = [new PassThrough({ highWaterMark: 1 << 20 }), new PassThrough({ highWaterMark: 1 << 20 })];
  const pump = async () => {
    for await (const chunk of source) {
      const live = outs.filter((o) => !o.destroyed);
      if (live.length === 0) { source.destroy(); return; }
      const full = live.filter((o) => !o.write(chunk));
      await Promise.all(full.map(drainedOrClosed));
    }
    for (const o of outs) if (!o.destroyed) o.end();
  };
  pump().catch((err: unknown) => {
    for (const o of outs) o.destroy(err instanceof Error ? err : new Error(String(err)));
  });
  return outs;
}

function drainedOrClosed(stream: PassThrough): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { stream.off('drain', done); stream.off('close', done); resolve(); };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
