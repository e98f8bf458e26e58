/** `tsbuild push REF`: the store's image named REF to REF's registry; prints the pushed manifest digest. */
import { normalizeReference } from '@tsbuild/core';
import type { Command } from '../command.js';
import { REGISTRY_HELP, REGISTRY_OPTIONS, registryClientOptions } from '../registry-flags.js';
import { pushedLine, pushStoredImage } from '../registry-push.js';
import { storeFor } from '../store-access.js';
import { UsageError } from '../usage-error.js';

export const pushCommand: Command = {
  name: 'push',
  summary: 'Push an image from the store to a registry',
  usage: '[OPTIONS] REF',
  help: REGISTRY_HELP,
  options: REGISTRY_OPTIONS,
  async run(ctx, args) {
    const [input] = args.positionals;
    if (!input || args.positionals.length > 1) throw new UsageError('exactly one REF is required');
    const name = normalizeReference(input);
    const store = await storeFor(ctx);
    const result = await pushStoredImage(store, name, {
      signal: ctx.signal, client: await registryClientOptions(args, ctx.env), warn: (m) => ctx.stderr.write(`warning: ${m}\n`),
      onBlob: (line) => ctx.stdout.write(`${line}\n`),
    });
    ctx.stdout.write(`${pushedLine(name, result)}\n`);
    return 0;
  },
};
