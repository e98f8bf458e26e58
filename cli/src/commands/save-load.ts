import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { isNotFound, openUserFile, type Descriptor, type Digest } from '@tsbuild/core';
import { chainIds, checkLayer, findImage, imageBlobs, loadArchive, resolveImage, saveArchive, unpackLayers, type LoadedImage, type Store } from '@tsbuild/store';
import { flag, str, type Command } from '../command.js';
import { storeFor } from '../store-access.js';
import { UsageError } from '../usage-error.js';

export const saveCommand: Command = {
  name: 'save',
  summary: 'Write images to a tar archive (docker load-able, or an OCI archive)',
  usage: '[-o FILE] [--format docker|oci] REF [REF...]',
  help: [
    ['-o, --output FILE', 'write to FILE instead of stdout'],
    ['--format docker|oci', 'docker (default: an OCI layout plus docker\'s manifest.json) or oci'],
  ],
  options: { output: { type: 'string', short: 'o' }, format: { type: 'string' } },
  async run(ctx, args) {
    if (args.positionals.length === 0) throw new UsageError('at least one image reference is required');
    const format = str(args, 'format') ?? 'docker';
    if (format !== 'docker' && format !== 'oci') throw new UsageError(`unknown format ${format} (docker or oci)`);
    const output = str(args, 'output');
    if (!output && (ctx.stdout as NodeJS.WriteStream).isTTY) throw new UsageError('refusing to write an archive to a terminal: use -o FILE');
    const store = await storeFor(ctx);
    // Names, IDs and name@digest all resolve to the tag the archive records (see findImage).
    const refs: string[] = [];
    for (const ref of args.positionals) refs.push((await findImage(store, ref, { signal: ctx.signal })).record.name);
    const tmp = output ? `${output}.tmp-${process.pid}` : undefined;
    const out = tmp ? createWriteStream(tmp) : ctx.stdout;
    try {
      await saveArchive({ root: store.root, content: store.content, images: store.images, refs, format, out, signal: ctx.signal });
      if (tmp && output) await rename(tmp, output);
    } catch (err) {
      if (tmp) await rm(tmp, { force: true });
      throw err;
    }
    return 0;
  },
};

export const loadCommand: Command = {
  name: 'load',
  summary: 'Load images from a tar archive (tsbuild save, docker save, OCI archive)',
  usage: '[-i FILE] [--no-unpack]',
  help: [
    ['-i, --input FILE', 'read from FILE instead of stdin'],
    ['--no-unpack', "keep the layers packed: the first build or run FROM the image unpacks them"],
  ],
  options: { input: { type: 'string', short: 'i' }, 'no-unpack': { type: 'boolean' } },
  async run(ctx, args) {
    const input = str(args, 'input');
    const unpack = !flag(args, 'no-unpack');
    const store = await storeFor(ctx);
    const stream = input ? (await openUserFile(input, 'the archive')).createReadStream() : Readable.from(ctx.stdin as AsyncIterable<Buffer>);
    // Every image is checked before any is tagged (a failed load tags nothing): unpacked now, as
    // `docker load` and containerd's import do, so the first build FROM it starts at once; with
    // --no-unpack its layers are read through, so a build cannot meet an unpackable one later.
    // One lease, held until the tags are written, keeps what was ingested and unpacked from a concurrent prune.
    const lease = await store.leases.create({ id: `load-${randomUUID()}`, ttlMs: 3600_000 });
    const beforeTag = async (images: readonly LoadedImage[]) => {
      const seen = new Set<string>();
      for (const { target } of images) {
        if (seen.has(target.digest)) continue;
        seen.add(target.digest);
        const blobs = await imageBlobs(store.content, target, ctx.signal ? { signal: ctx.signal } : {});
        await store.leases.addResources(lease.id, blobs.map((d) => ({ type: 'content' as const, digest: d.digest })));
        await checkForHost(store, lease.id, target, unpack, ctx.signal);
      }
    };
    let tags: string[];
    try {
      ({ tags } = await loadArchive({ root: store.root, content: store.content, images: store.images, input: stream, signal: ctx.signal, beforeTag }));
    } finally {
      await store.leases.delete(lease.id).catch(() => undefined);
    }
    for (const t of tags) ctx.stdout.write(`Loaded image: ${t}\n`);
    return 0;
  },
};

/**
 * Unpacks (or, with `unpack` false, reads through) the host platform's image
 * of `target` into snapshots, reusing layers already unpacked, under the
 * load's lease so a concurrent prune cannot take them half made; once tagged,
 * the image itself keeps them (GC marks its chain ids). An archive without an
 * image for this platform is left packed.
 */
async function checkForHost(store: Store, leaseId: string, target: Descriptor, unpack: boolean, signal: AbortSignal | undefined): Promise<void> {
  const image = await resolveImage(store.content, target, signal ? { signal } : {}).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (!image || image.manifest.layers.length === 0) return;
  const sig = signal ? { signal } : {};
  if (!unpack) {
    for (const layer of image.manifest.layers) await checkLayer(store.content, layer, sig);
    return;
  }
  const diffIDs = image.config.rootfs.diff_ids as Digest[];
  await store.leases.addResources(leaseId, chainIds(diffIDs).map((key) => ({ type: 'snapshot' as const, key })));
  const snapshotter = await store.snapshotter(sig);
  await unpackLayers({ provider: store.content, snapshotter, layers: image.manifest.layers, diffIDs, ...sig });
}
