import { FailedPreconditionError, parseReference, shortDigest } from '@tsbuild/core';
import { findImage } from '@tsbuild/store';
import type { Command } from '../command.js';
import { storeFor } from '../store-access.js';
import { UsageError } from '../usage-error.js';

/**
 * Removes tags; the blobs they alone kept go at the next `tsbuild prune`.
 * A name removes that tag. An ID (or `name@digest`) names the image: all its
 * tags go when they are of one repository, and an image tagged in several
 * repositories is refused, as docker's `ImageDelete` (daemon/images/image_delete.go)
 * refuses it without --force.
 */
export const rmiCommand: Command = {
  name: 'rmi',
  summary: 'Remove image tags (blobs are reclaimed by prune)',
  usage: 'REF [REF...]',
  options: {},
  async run(ctx, args) {
    if (args.positionals.length === 0) throw new UsageError('at least one image reference is required');
    const store = await storeFor(ctx);
    for (const ref of args.positionals) {
      const { record, names, by } = await findImage(store, ref, { signal: ctx.signal });
      const untag = by === 'name' ? [record.name] : names;
      const repos = new Set(untag.map((n) => { const p = parseReference(n); return `${p.registry}/${p.repository}`; }));
      if (repos.size > 1) {
        throw new FailedPreconditionError(`unable to delete ${ref}: image ${shortDigest(record.target.digest)} is referenced in several repositories (${untag.join(', ')}); remove it by name`, {
          code: 'RMI_IMAGE_IN_SEVERAL_REPOSITORIES',
        });
      }
      for (const name of untag) {
        await store.images.delete(name);
        ctx.stdout.write(`Untagged: ${name}\n`);
      }
    }
    return 0;
  },
};
