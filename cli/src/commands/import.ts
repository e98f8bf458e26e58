import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  formatPlatform,
  hostPlatform,
  normalizeReference,
  openUserFile,
  parsePlatform,
  type Compression,
  type ContainerConfig,
  type ImageConfig,
} from '@tsbuild/core';
import { openLayerStream, packDirectory, writeImage, writeLayer } from '@tsbuild/store';
import { list, str, type Command } from '../command.js';
import { applyChange } from '../image-changes.js';
import { UsageError } from '../usage-error.js';
import { storeFor } from '../store-access.js';

/**
 * `tsbuild import SOURCE -t REF`: a root filesystem (a directory, a tar file,
 * or a tar on stdin, compressed or not) becomes a one-layer image. This is how
 * base images are made where there is no registry.
 */
export const importCommand: Command = {
  name: 'import',
  summary: 'Create an image from a root filesystem (directory, tarball or - for stdin)',
  usage: '[OPTIONS] ROOTFS_DIR|ROOTFS_TAR|- -t REF',
  help: [
    ['-t, --tag REF', 'name the image (repeatable)'],
    ['-c, --change INSTR', 'apply a Dockerfile metadata instruction (CMD, ENTRYPOINT, ENV, …)'],
    ['--platform OS/ARCH', 'platform recorded in the image (default: this machine)'],
    ['--compression ALG', 'gzip (default), zstd or none'],
    ['--media-types oci|docker', 'OCI media types (default) or Docker schema2'],
    ['-m, --message TEXT', 'history comment'],
  ],
  options: {
    tag: { type: 'string', short: 't', multiple: true },
    change: { type: 'string', short: 'c', multiple: true },
    platform: { type: 'string' },
    compression: { type: 'string' },
    'media-types': { type: 'string' },
    message: { type: 'string', short: 'm' },
  },
  async run(ctx, args) {
    const [source, extraRef] = args.positionals;
    if (!source) throw new UsageError('a root filesystem source is required');
    const tags = [...list(args, 'tag'), ...(extraRef ? [extraRef] : [])].map(normalizeReference);
    if (tags.length === 0) throw new UsageError('-t REF is required');
    const compression = (str(args, 'compression') ?? 'gzip') as Compression;
    if (!['gzip', 'zstd', 'none'].includes(compression)) throw new UsageError(`unknown compression ${compression}`);
    const flavor = str(args, 'media-types') ?? 'oci';
    if (flavor !== 'oci' && flavor !== 'docker') throw new UsageError(`--media-types: oci or docker, got ${flavor}`);
    const platform = str(args, 'platform') ? parsePlatform(str(args, 'platform')!) : hostPlatform();

    let config: ContainerConfig = {};
    for (const change of list(args, 'change')) config = applyChange(config, change);

    const store = await storeFor(ctx);
    const epoch = ctx.env.SOURCE_DATE_EPOCH ? Number(ctx.env.SOURCE_DATE_EPOCH) : undefined;
    const tar = await sourceTar(source, ctx.stdin, epoch, ctx.signal);
    const layer = await writeLayer(tar, store.content, { compression, flavor, signal: ctx.signal });
    const created = new Date(epoch !== undefined ? epoch * 1000 : Date.now()).toISOString();
    const image: ImageConfig = {
      created,
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config,
      rootfs: { type: 'layers', diff_ids: [layer.diffID] },
      history: [{ created, created_by: 'tsbuild import', comment: str(args, 'message') ?? `Imported from ${source === '-' ? 'stdin' : source}` }],
    };
    const manifest = await writeImage(store.content, { config: image, layers: [layer.descriptor], flavor, signal: ctx.signal });
    for (const tag of tags) await store.images.put(tag, manifest);
    ctx.stdout.write(`${manifest.digest}\n`);
    if (ctx.debug) ctx.stderr.write(`imported ${formatPlatform(platform)} layer ${layer.descriptor.digest} (${layer.descriptor.size} bytes)\n`);
    return 0;
  },
};

async function sourceTar(source: string, stdin: NodeJS.ReadableStream, epoch: number | undefined, signal: AbortSignal): Promise<Readable> {
  if (source === '-') return openLayerStream(Readable.from(stdin as AsyncIterable<Buffer>), { signal });
  const st = await stat(source);
  if (st.isDirectory()) return packDirectory(source, { ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}), signal });
  return openLayerStream((await openUserFile(source, 'the archive to import')).createReadStream(), { signal });
}
