/**
 * Pulls an image into the store (for `tsbuild pull` and for a build's base
 * images, through the builder's injected ImagePuller). The tag is resolved to
 * a manifest digest once; the blobs the store lacks are streamed into it under
 * a lease (so a prune in another process cannot take them before the tag
 * exists), each layer unpacked into a snapshot as it arrives (store's
 * StreamingUnpack); the name is tagged last. A multi-platform image is tagged
 * as docker's containerd image store keeps it: the name points to the index
 * (whose digest is the image's repo digest), which is stored after the
 * platform's manifest; which platforms are here is what the content store
 * holds of the index's manifests (a manifest is ingested after all its blobs,
 * so a present manifest is a complete image). Pulling another platform of the
 * same index adds its manifest beside the first.
 * The store records that the manifest and its blobs are in that repository
 * (store.sources), for cross-repository mounts on a later push.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  isNotFound, normalizeReference, parseReference, shortDigest,
  type Descriptor, type Digest, type ImageConfig, type Manifest, type Platform,
} from '@tsbuild/core';
import type { ImagePuller } from '@tsbuild/builder';
import { RegistryClient, pullImage, resolveImage, type RegistryClientOptions, type ResolvedManifest } from '@tsbuild/registry-client';
import { StreamingUnpack, chainIds, platformOf, readJson, type Store } from '@tsbuild/store';

export interface StorePullOptions {
  platform?: Platform;
  signal?: AbortSignal;
  /**
   * Blobs other pulls of the same puller are fetching: a pull waits for such a
   * blob instead of fetching it too (images sharing layers in one build fetch
   * each layer once). Settles true when the blob is in the store.
   */
  inFlight?: Map<Digest, Promise<boolean>>;
  /** Unpack the layers into snapshots (default true), while they download where the snapshotter allows. */
  unpack?: boolean;
  /** `resolve REF@DIGEST`, then one line per blob fetched. */
  onLog?: (line: string) => void;
}

export interface StorePullResult {
  /** The platform's manifest (with its platform). */
  descriptor: Descriptor;
  /** What the name was tagged to: the index of a multi-platform image, else `descriptor`. */
  tagged: Descriptor;
  /** Blobs fetched (0: the store had them all). */
  fetched: number;
}

export async function pullToStore(store: Store, client: RegistryClient, input: string, options: StorePullOptions = {}): Promise<StorePullResult> {
  const { signal } = options;
  const ref = parseReference(input);
  const name = normalizeReference(input);
  const lease = await store.leases.create({ id: `pull-${randomUUID()}`, ttlMs: 3600_000 });
  const inFlight = options.inFlight ?? new Map<Digest, Promise<boolean>>();
  /** Blobs this pull fetches: each settled when its ingest ends, or in `finally` for one never ingested. */
  const mine = new Map<Digest, { settle: (ok: boolean) => void; promise: Promise<boolean> }>();
  let unpacking: Promise<StreamingUnpack | undefined> | undefined;
  try {
    const hold = (digest: Digest) => store.leases.addResource(lease.id, { type: 'content', digest });
    const inStore = (digest: Digest) => store.content.info(digest).then(() => true, (err: unknown) => { if (isNotFound(err)) return false; throw err; });
    const has = async (digest: Digest) => {
      await hold(digest);
      for (let other = inFlight.get(digest); other; other = inFlight.get(digest)) {
        if (await other) return true;
        if (inFlight.get(digest) === other) inFlight.delete(digest); // that pull failed: fetch it here
      }
      // Claimed before the store is asked (no await in between), so no other pull fetches it meanwhile.
      let settle!: (ok: boolean) => void;
      const promise = new Promise<boolean>((r) => { settle = r; });
      mine.set(digest, { settle, promise });
      inFlight.set(digest, promise);
      if (!(await inStore(digest))) return false;
      settle(true);
      return true;
    };
    // The one resolution of the tag: the rest of the pull reads by digest.
    const resolved = await resolveImage(client, ref, { ...(options.platform ? { platform: options.platform } : {}), ...(signal ? { signal } : {}) });
    const digest = resolved.descriptor.digest;
    options.onLog?.(`resolve ${ref.digest ? name : `${name}@${digest}`}`);
    const manifest = JSON.parse(resolved.bytes.toString('utf8')) as Manifest;
    const layers = new Set((manifest.layers ?? []).map((l) => l.digest));
    // Made on the first layer: pullImage has ingested the config by then.
    const unpacker = () => (unpacking ??= startUnpack(store, lease.id, manifest, signal));
    const ingest = async (s: Readable, e: { digest: Digest; size: number }, o?: { signal?: AbortSignal }) => {
      await hold(e.digest);
      const streaming = options.unpack !== false && layers.has(e.digest) ? await unpacker() : undefined;
      const info = streaming ? await streaming.ingest(store.content, s, e, o) : await store.content.ingest(s, e, o);
      mine.get(e.digest)?.settle(true);
      return info;
    };
    let fetched = 0;
    // A manifest in the store means all its blobs are (pullImage ingests it last).
    const desc = (await has(digest)) ? resolved.descriptor : await pullImage(client, { registry: ref.registry, repository: ref.repository, digest }, { has, ingest }, {
      resolved,
      ...(signal ? { signal } : {}),
      onBlob: (e) => {
        if (e.skipped) return;
        fetched++;
        options.onLog?.(`sha256:${shortDigest(e.digest)} ${humanSize(e.size)} done`);
      },
    });
    if (options.unpack !== false && layers.size > 0) await (await unpacker())?.finish();
    const platform = resolved.descriptor.platform ?? desc.platform;
    const target = platform ? { ...desc, platform } : { ...desc, platform: platformOf(await configOf(store, desc)) };
    await recordSources(store, desc, ref.registry, ref.repository);
    const tagged = resolved.index ? await storeIndex(store, resolved.index, hold, signal) : target;
    await store.images.put(name, tagged);
    return { descriptor: target, tagged, fetched };
  } finally {
    await (await unpacking?.catch(() => undefined))?.discard();
    for (const [digest, { settle, promise }] of mine) {
      settle(false);
      if (inFlight.get(digest) === promise) inFlight.delete(digest);
    }
    await store.leases.delete(lease.id).catch(() => undefined);
  }
}

/** The manifest and its blobs are in this repository of this registry (a push there or next to it can mount them). */
async function recordSources(store: Store, desc: Descriptor, registry: string, repository: string): Promise<void> {
  const manifest = await readJson<Manifest>(store.content, desc);
  await store.sources.add([desc.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)], registry, repository);
}

/** The builder's ImagePuller for one build: one registry client (its connections and tokens shared by every pull), closed by `close`. */
export function createImagePuller(store: Store, clientOptions: () => Promise<RegistryClientOptions>): ImagePuller & { close(): Promise<void> } {
  let client: Promise<RegistryClient> | undefined;
  const inFlight = new Map<Digest, Promise<boolean>>();
  return {
    async pull(ref, { platform, signal, onLog }) {
      client ??= clientOptions().then((o) => new RegistryClient(o));
      const pulled = await pullToStore(store, await client, ref, { platform, inFlight, ...(signal ? { signal } : {}), ...(onLog ? { onLog } : {}) });
      return pulled.descriptor;
    },
    async close() {
      await (await client?.catch(() => undefined))?.close();
    },
  };
}

/**
 * Decimal units, 3 significant digits (`12.3MB`). Not BuildKit's exact form: its plain printer
 * (util/progress/progressui/printer.go, textMux.printVtx) prints `%.2f` of tonistiigi/units.Bytes,
 * two decimals (`12.35MB`), and `current / total` while a blob is in flight.
 */
function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${Number(n.toPrecision(3))}${units[i]}`;
}

/** Ingests the index a platform's manifest was picked from; its descriptor, to tag. */
async function storeIndex(store: Store, index: ResolvedManifest, hold: (d: Digest) => Promise<unknown>, signal: AbortSignal | undefined): Promise<Descriptor> {
  const { mediaType, digest, size } = index.descriptor;
  await hold(digest);
  await store.content.ingest(Readable.from([index.bytes]), { digest, size }, signal ? { signal } : {});
  return { mediaType, digest, size };
}

/**
 * The unpacker of an image whose config is in the store, its chain ids held by
 * the pull's lease; none for a manifest that is not a root filesystem (its
 * config has no diff id per layer).
 */
async function startUnpack(store: Store, leaseId: string, manifest: Manifest, signal: AbortSignal | undefined): Promise<StreamingUnpack | undefined> {
  const config = await readJson<ImageConfig>(store.content, manifest.config);
  const diffIDs = config.rootfs?.diff_ids as Digest[] | undefined;
  if (!Array.isArray(diffIDs) || diffIDs.length !== manifest.layers.length) return undefined;
  await store.leases.addResources(leaseId, chainIds(diffIDs).map((key) => ({ type: 'snapshot' as const, key })));
  const sig = signal ? { signal } : {};
  return new StreamingUnpack({ provider: store.content, snapshotter: await store.snapshotter(sig), layers: manifest.layers, diffIDs, ...sig });
}

async function configOf(store: Store, desc: Descriptor): Promise<ImageConfig> {
  const manifest = await readJson<Manifest>(store.content, desc);
  return readJson<ImageConfig>(store.content, manifest.config);
}
