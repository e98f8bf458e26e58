import type { Command } from '../command.js';
import { storeFor } from '../store-access.js';
import { UsageError } from '../usage-error.js';

/** Removes tags; the blobs they alone kept go at the next `tsbuild prune`. */
export const rmiCommand: Command = {
  name: 'rmi',
  summary: 'Remove image tags (blobs are reclaimed by prune)',
  usage: 'REF [REF...]',
  options: {},
  async run(ctx, args) {
    if (args.positionals.length === 0) throw new UsageError('at least one image reference is required');
    const store = await storeFor(ctx);
    for (const ref of args.positionals) {
      const record = await store.images.get(ref);
      await store.images.delete(record.name);
      ctx.stdout.write(`Untagged: ${record.name}\n`);
    }
    return 0;
  },
};
