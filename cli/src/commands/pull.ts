/**
 * `tsbuild pull REF [--platform P]`: resolves REF at its registry, streams
 * the platform's config and layers the store lacks into it (each verified by
 * the store's ingest before it is visible), unpacks the layers into snapshots
 * as they arrive (unless --no-unpack), and tags REF only after every blob and
 * the manifest are written.
 */
import { formatReference, normalizeReference, parsePlatform, parseReference } from '@tsbuild/core';
import { RegistryClient } from '@tsbuild/registry-client';
import { flag, str, type Command } from '../command.js';
import { REGISTRY_HELP, REGISTRY_OPTIONS, registryClientOptions } from '../registry-flags.js';
import { pullToStore } from '../registry-pull.js';
import { storeFor } from '../store-access.js';
import { UsageError } from '../usage-error.js';

export const pullCommand: Command = {
  name: 'pull',
  summary: 'Pull an image from a registry into the store',
  usage: '[OPTIONS] REF',
  help: [
    ['--platform P', 'the platform to pull from a multi-platform image (default: the host\'s)'],
    ['--no-unpack', 'keep the layers packed: the first build or run FROM the image unpacks them'],
    ...REGISTRY_HELP,
  ],
  options: { platform: { type: 'string' }, 'no-unpack': { type: 'boolean' }, ...REGISTRY_OPTIONS },
  async run(ctx, args) {
    const [input] = args.positionals;
    if (!input || args.positionals.length > 1) throw new UsageError('exactly one REF is required');
    const ref = parseReference(input);
    const platformSpec = str(args, 'platform');
    const store = await storeFor(ctx);
    const client = new RegistryClient(await registryClientOptions(args, ctx.env));
    try {
      const { tagged, fetched } = await pullToStore(store, client, input, {
        ...(platformSpec ? { platform: parsePlatform(platformSpec) } : {}),
        unpack: !flag(args, 'no-unpack'),
        signal: ctx.signal,
      });
      ctx.stdout.write(`${fetched === 0 ? 'Image is up to date' : `Pulled ${fetched} blob${fetched === 1 ? '' : 's'}`} for ${formatReference(ref)}\nDigest: ${tagged.digest}\n${normalizeReference(input)}\n`);
      return 0;
    } finally {
      await client.close();
    }
  },
};
