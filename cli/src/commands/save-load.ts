import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { loadArchive, saveArchive } from '@tsbuild/store';
import { str, type Command } from '../command.js';
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
  usage: '[-i FILE]',
  help: [['-i, --input FILE', 'read from FILE instead of stdin']],
  options: { input: { type: 'string', short: 'i' } },
  async run(ctx, args) {
    const input = str(args, 'input');
    const store = await storeFor(ctx);
    const stream = input ? createReadStream(input) : Readable.from(ctx.stdin as AsyncIterable<Buffer>);
    const { tags } = await loadArchive({ root: store.root, content: store.content, images: store.images, input: stream, signal: ctx.signal });
    for (const t of tags) ctx.stdout.write(`Loaded image: ${t}\n`);
    return 0;
  },
};
