import { flag, type Command } from '../command.js';
import { hostLeftoverProblems } from '../reclaim.js';
import { storeFor } from '../store-access.js';
import { formatTable, humanSize } from '../table.js';
import { UsageError } from '../usage-error.js';

export const pruneCommand: Command = {
  name: 'prune',
  summary: 'Remove blobs and snapshots that no tag, lease or cache record needs',
  usage: '[OPTIONS]',
  help: [['--grace SECONDS', 'keep anything newer than this (default 60)']],
  options: { grace: { type: 'string' } },
  async run(ctx, args) {
    const grace = typeof args.values.grace === 'string' ? Number(args.values.grace) * 1000 : undefined;
    // A typo must not silently fall back to the default grace.
    if (grace !== undefined && !(Number.isFinite(grace) && grace >= 0)) throw new UsageError(`--grace wants a number of seconds, not ${JSON.stringify(args.values.grace)}`);
    const graceMs = grace !== undefined ? { graceMs: grace } : {};
    const store = await storeFor(ctx);
    // The store keeps what the build cache reports (it does not know the cache's format) ...
    const { openBuildCache, pruneContentMaps } = await import('@tsbuild/builder');
    const cache = openBuildCache(store.root);
    const r = await store.prune({ signal: ctx.signal, roots: [cache], ...graceMs });
    // ... and the cache drops the explanation maps that no last build names any more.
    const maps = await pruneContentMaps(cache.dir, graceMs);
    ctx.stdout.write(`Deleted ${r.blobsRemoved} blobs, ${r.snapshotsRemoved} snapshots, ${maps.removed} cache content maps, ${r.leftoversRemoved ?? 0} leftovers of dead processes\nTotal reclaimed space: ${humanSize(r.bytesReclaimed + maps.bytes)}\n`);
    return 0;
  },
};

export const duCommand: Command = {
  name: 'du',
  summary: 'Show disk usage by kind',
  usage: '[--format table|json]',
  options: { format: { type: 'string' } },
  async run(ctx, args) {
    const store = await storeFor(ctx);
    const { openBuildCache } = await import('@tsbuild/builder');
    const usage = await store.du({ signal: ctx.signal, roots: [openBuildCache(store.root)] });
    if (args.values.format === 'json') {
      ctx.stdout.write(JSON.stringify(usage, null, 2) + '\n');
      return 0;
    }
    const total = usage.reduce((n, u) => n + u.bytes, 0);
    const reclaimable = usage.reduce((n, u) => n + u.reclaimableBytes, 0);
    ctx.stdout.write(
      formatTable(['TYPE', 'COUNT', 'SIZE', 'RECLAIMABLE'], [
        ...usage.map((u) => [u.kind, String(u.count), humanSize(u.bytes), humanSize(u.reclaimableBytes)]),
        ['total', '', humanSize(total), humanSize(reclaimable)],
      ]),
    );
    return 0;
  },
};

export const fsckCommand: Command = {
  name: 'fsck',
  summary: 'Verify every blob digest and reference, list what dead builds left; --repair removes both',
  usage: '[--repair]',
  options: { repair: { type: 'boolean' } },
  async run(ctx, args) {
    // No reclaim at open: fsck reports what dead processes left, and --repair removes it.
    const store = await storeFor(ctx);
    const repair = flag(args, 'repair');
    const host = hostLeftoverProblems(repair);
    const report = await store.fsck({ repair, signal: ctx.signal });
    report.problems.push(...host);
    for (const p of report.problems) ctx.stdout.write(`${p.repaired ? 'repaired' : 'problem'}: ${p.kind} ${p.subject}: ${p.message}\n`);
    const open = report.problems.filter((p) => !p.repaired).length;
    ctx.stdout.write(`checked ${report.blobsChecked} blobs, ${report.refsChecked} references: ${report.problems.length} problems${report.problems.length ? `, ${report.problems.length - open} repaired` : ''}\n`);
    return open === 0 ? 0 : 1;
  },
};
