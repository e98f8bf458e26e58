import { isIndexType } from '@tsbuild/core';
import { flag, str, type Command } from '../command.js';
import { shortId, summarize, type PlatformEntry } from '../image-summary.js';
import { storeFor } from '../store-access.js';
import { formatTable, humanSize, timeAgo } from '../table.js';
import { UsageError } from '../usage-error.js';

export const imagesCommand: Command = {
  name: 'images',
  summary: 'List images in the store',
  usage: '[OPTIONS] [REPOSITORY[:TAG]]',
  help: [
    ['--format table|json', 'output format'],
    ['-q, --quiet', 'only image IDs'],
    ['--digests', 'show the manifest digest'],
    ['--tree', "list a multi-platform image's platforms under it (manifest digest; absent: not in the store)"],
  ],
  options: { format: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, digests: { type: 'boolean' }, tree: { type: 'boolean' } },
  async run(ctx, args) {
    const format = str(args, 'format') ?? 'table';
    if (format !== 'table' && format !== 'json') throw new UsageError(`unknown format ${format} (table or json)`);
    const store = await storeFor(ctx);
    const filter = args.positionals[0];
    const records = (await store.images.list()).filter((r) => !filter || r.name === filter || r.name.startsWith(`${filter}:`));
    const rows = [];
    for (const r of records) rows.push(await summarize(store, r, ctx.signal));
    rows.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? '') || a.name.localeCompare(b.name));
    if (format === 'json') {
      ctx.stdout.write(JSON.stringify(rows.map(({ name, repository, tag, id, digest, created, size, platform, platforms }) => ({ name, repository, tag, id, digest, created, size, platform, platforms })), null, 2) + '\n');
    } else if (flag(args, 'quiet')) {
      ctx.stdout.write([...new Set(rows.map((r) => shortId(r.id)))].map((s) => `${s}\n`).join(''));
    } else {
      const digests = flag(args, 'digests');
      const header = ['REPOSITORY', 'TAG', ...(digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
      const tree = flag(args, 'tree');
      ctx.stdout.write(formatTable(header, rows.flatMap((r) => [
        [r.repository, r.tag, ...(digests ? [r.digest] : []), shortId(r.id), timeAgo(r.created), humanSize(r.size)],
        ...(tree && isIndexType(r.descriptor.mediaType) ? platformRows(r.platforms, digests) : []),
      ])));
    }
    return 0;
  },
};

/** `--tree`: one row per platform of an index, docker's `image ls --tree` branches. */
function platformRows(platforms: PlatformEntry[], digests: boolean): string[][] {
  return platforms.map((p, i) => [
    `${i === platforms.length - 1 ? '└─' : '├─'} ${p.platform}`, '', ...(digests ? [p.digest] : []), p.present ? shortId(p.digest) : '(absent)', '', '',
  ]);
}
