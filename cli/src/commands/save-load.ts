import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { isNotFound, openUserFile, type Digest } from '@tsbuild/core';
import { chainIds, loadArchive, resolveImage, saveArchive, unpackLayers, type Store } from '@tsbuild/store';
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
    const tmp = output ? `${output}.tmp-${process.pid}` : undefined;
    const out = tmp ? createWriteStream(tmp) : ctx.stdout;
    try {
      await saveArchive({ root: store.root, content: store.content, images: store.images, refs: args.positionals, format, out, signal: ctx.signal });
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
    const store = await storeFor(ctx);
    const stream = input ? (await openUserFile(input, 'the archive')).createReadStream() : Readable.from(ctx.stdin as AsyncIterable<Buffer>);
    const { tags } = await loadArchive({ root: store.root, content: store.content, images: store.images, input: stream, signal: ctx.signal });
    // Unpacked now, as `docker load` and containerd's import do: the first build FROM it starts at once.
    if (!flag(args, 'no-unpack')) for (const t of tags) await unpackForHost(store, t, ctx.signal);
    for (const t of tags) ctx.stdout.write(`Loaded image: ${t}\n`);
    return 0;
  },
};

/**
 * Unpacks the host platform's image of `tag` into snapshots (reusing layers
 * already unpacked), under a lease so a concurrent prune cannot take them
 * half made; afterwards the image itself keeps them (GC marks its chain ids).
 * An archive without an image for this platform is left packed.
 */
async function unpackForHost(store: Store, tag: string, signal: AbortSignal | undefined): Promise<void> {
  const record = await store.images.get(tag);
  const image = await resolveImage(store.content, record.target, signal ? { signal } : {}).catch((err: unknown) => {
    if (isNotFound(err)) return undefined;
    throw err;
  });
  if (!image || image.manifest.layers.length === 0) return;
  const diffIDs = image.config.rootfs.diff_ids as Digest[];
  const lease = await store.leases.create({ id: `load-${randomUUID()}`, ttlMs: 3600_000 });
  try {
    await store.leases.addResources(lease.id, chainIds(diffIDs).map((key) => ({ type: 'snapshot' as const, key })));
    const snapshotter = await store.snapshotter(signal ? { signal } : {});
    await unpackLayers({ provider: store.content, snapshotter, layers: image.manifest.layers, diffIDs, ...(signal ? { signal } : {}) });
  } finally {
    await store.leases.delete(lease.id).catch(() => undefined);
  }
}
