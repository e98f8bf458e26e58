/**
 * `tsbuild pull REF [--platform P]`: resolves REF at its registry, streams
 * the platform's config and layers the store lacks into it (each verified by
 * the store's ingest before it is visible), and tags REF only after every
 * blob and the manifest are written.
 */
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { formatReference, isNotFound, normalizeReference, parsePlatform, parseReference, type Digest, type ImageConfig, type Manifest } from '@tsbuild/core';
import { RegistryClient, pullImage } from '@tsbuild/registry-client';
import { platformOf, readJson } from '@tsbuild/store';
import { str, type Command } from '../command.js';
import { REGISTRY_HELP, REGISTRY_OPTIONS, registryClientOptions } from '../registry-flags.js';
import { storeFor } from '../store-access.js';
import { UsageError } from '../usage-error.js';

export const pullCommand: Command = {
  name: 'pull',
  summary: 'Pull an image from a registry into the store',
  usage: '[OPTIONS] REF',
  help: [['--platform P', 'the platform to pull from a multi-platform image (default: the host\'s)'], ...REGISTRY_HELP],
  options: { platform: { type: 'string' }, ...REGISTRY_OPTIONS },
  async run(ctx, args) {
    const [input] = args.positionals;
    if (!input || args.positionals.length > 1) throw new UsageError('exactly one REF is required');
    const ref = parseReference(input);
    const platformSpec = str(args, 'platform');
    const store = await storeFor(ctx);
    const client = new RegistryClient(await registryClientOptions(args, ctx.env));
    // The lease keeps prune (in another process) from taking blobs written before the tag exists.
    const lease = await store.leases.create({ id: `pull-${randomUUID()}`, ttlMs: 3600_000 });
    try {
      let fetched = 0;
      const hold = (digest: Digest) => store.leases.addResource(lease.id, { type: 'content', digest });
      const has = async (digest: Digest) => {
        await hold(digest);
        return store.content.info(digest).then(() => true, (err: unknown) => { if (isNotFound(err)) return false; throw err; });
      };
      const ingest = async (s: Readable, e: { digest: Digest; size: number }, o?: { signal?: AbortSignal }) => {
        await hold(e.digest);
        return store.content.ingest(s, e, o);
      };
      const desc = await pullImage(client, ref, { has, ingest }, {
        ...(platformSpec ? { platform: parsePlatform(platformSpec) } : {}),
        signal: ctx.signal,
        onBlob: (e) => { if (!e.skipped) fetched++; },
      });
      const target = desc.platform ? desc : { ...desc, platform: platformOf(await configOf(store.content, desc)) };
      const name = normalizeReference(input);
      await store.images.put(name, target);
      ctx.stdout.write(`${fetched === 0 ? 'Image is up to date' : `Pulled ${fetched} blob${fetched === 1 ? '' : 's'}`} for ${formatReference(ref)}\nDigest: ${desc.digest}\n${name}\n`);
      return 0;
    } finally {
      await client.close();
      await store.leases.delete(lease.id).catch(() => undefined);
    }
  },
};

async function configOf(content: Parameters<typeof readJson>[0], desc: Parameters<typeof readJson>[1]): Promise<ImageConfig> {
  const manifest = await readJson<Manifest>(content, desc);
  return readJson<ImageConfig>(content, manifest.config);
}
