/** `tsbuild push REF`: the store's image named REF to REF's registry; prints the pushed manifest digest. */
import { normalizeReference } from '@tsbuild/core';
import { findImage } from '@tsbuild/store';
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
    const store = await storeFor(ctx);
    // A push goes to the registry its name says: an image ID or name@digest names no tag to push to.
    const found = await findImage(store, input, { signal: ctx.signal });
    if (found.by !== 'name') throw new UsageError(`push needs a NAME[:TAG] to push to, not an image ID or digest: tag it first (tsbuild tag ${input} NAME)`);
    const name = normalizeReference(input);
    const result = await pushStoredImage(store, name, {
      signal: ctx.signal, client: await registryClientOptions(args, ctx.env), warn: (m) => ctx.stderr.write(`warning: ${m}\n`),
      onBlob: (line) => ctx.stdout.write(`${line}\n`),
    });
    ctx.stdout.write(`${pushedLine(name, result)}\n`);
    return 0;
  },
};
