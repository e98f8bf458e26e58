import { normalizeReference } from '@tsbuild/core';
import { findImage } from '@tsbuild/store';
import type { Command } from '../command.js';
import { storeFor } from '../store-access.js';
import { UsageError } from '../usage-error.js';

export const tagCommand: Command = {
  name: 'tag',
  summary: 'Give an image another name',
  usage: 'SOURCE TARGET',
  options: {},
  async run(ctx, args) {
    const [source, target] = args.positionals;
    if (!source || !target || args.positionals.length > 2) throw new UsageError('exactly SOURCE and TARGET are required');
    const store = await storeFor(ctx);
    const { record } = await findImage(store, source, { signal: ctx.signal });
    await store.images.put(normalizeReference(target), record.target);
    return 0;
  },
};
