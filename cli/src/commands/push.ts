/** `tsbuild push REF`: the store's image named REF to REF's registry; prints the pushed manifest digest. */
import { normalizeReference } from '@tsbuild/core';
import { list, type Command } from '../command.js';
import { pushedLine, pushStoredImage } from '../registry-push.js';
import { storeFor } from '../store-access.js';
import { UsageError } from '../usage-error.js';

export const pushCommand: Command = {
  name: 'push',
  summary: 'Push an image from the store to a registry',
  usage: '[OPTIONS] REF',
  help: [['--insecure-registry HOST', 'allow plain HTTP to HOST[:PORT] (loopback is always allowed); repeatable']],
  options: { 'insecure-registry': { type: 'string', multiple: true } },
  async run(ctx, args) {
    const [input] = args.positionals;
    if (!input || args.positionals.length > 1) throw new UsageError('exactly one REF is required');
    const name = normalizeReference(input);
    const store = await storeFor(ctx);
    const result = await pushStoredImage(store, name, {
      signal: ctx.signal, env: ctx.env, insecure: list(args, 'insecure-registry'), warn: (m) => ctx.stderr.write(`warning: ${m}\n`),
      onBlob: (line) => ctx.stdout.write(`${line}\n`),
    });
    ctx.stdout.write(`${pushedLine(name, result)}\n`);
    return 0;
  },
};
