import { familiarReference, isIndexType, parseReference } from '@tsbuild/core';
import { findImage } from '@tsbuild/store';
import type { Command } from '../command.js';
import { summarize } from '../image-summary.js';
import { storeFor } from '../store-access.js';
import { UsageError } from '../usage-error.js';

/**
 * `tsbuild inspect REF…`: a JSON array, one object per image, with its manifest
 * and config. `RepoDigests` name each tag's repository at the digest the tag
 * points to — for a multi-platform pull the index, as docker shows it; `Manifest`
 * and `Config` are the host platform's image, or the first platform the store
 * holds of an index pulled for others.
 */
export const inspectCommand: Command = {
  name: 'inspect',
  summary: 'Show an image: digest, manifest and config as JSON',
  usage: 'REF [REF...]',
  options: {},
  async run(ctx, args) {
    if (args.positionals.length === 0) throw new UsageError('at least one image reference is required');
    const store = await storeFor(ctx);
    const out = [];
    for (const ref of args.positionals) {
      const { record, names } = await findImage(store, ref, { signal: ctx.signal });
      const s = await summarize(store, record, ctx.signal);
      out.push({
        Name: s.name,
        Id: s.id,
        Digest: s.digest,
        RepoTags: names,
        RepoDigests: repoDigests(names, s.digest),
        Created: s.created,
        Platform: s.platform,
        ...(isIndexType(s.descriptor.mediaType) ? { Platforms: s.platforms } : {}),
        Size: s.size,
        Descriptor: s.descriptor,
        Manifest: s.manifest,
        Config: s.config,
      });
    }
    ctx.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return 0;
  },
};

/** `repository@digest` for each distinct repository of `names` (docker's RepoDigests form). */
function repoDigests(names: string[], digest: string): string[] {
  const repositories = names.flatMap((n) => {
    try {
      const ref = parseReference(n);
      return [familiarReference({ registry: ref.registry, repository: ref.repository })];
    } catch {
      return [];
    }
  });
  return [...new Set(repositories)].map((r) => `${r}@${digest}`);
}
