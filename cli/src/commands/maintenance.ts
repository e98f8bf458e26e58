import { createInterface } from 'node:readline';
import type { UsageRecord } from '@tsbuild/builder';
import { flag, list, str, type Command, type ParsedArgs } from '../command.js';
import type { CliContext } from '../context.js';
import { hostLeftoverProblems } from '../reclaim.js';
import { storeFor } from '../store-access.js';
import { formatTable, humanSize, timeAgo } from '../table.js';
import { UsageError } from '../usage-error.js';

export const pruneCommand: Command = {
  name: 'prune',
  summary: 'Remove blobs and snapshots that no tag, lease or cache record needs; --cache: build cache records by policy',
  usage: '[OPTIONS]',
  help: [
    ['--grace SECONDS', 'keep anything newer than this (default 60)'],
    ['--cache', 'also remove build cache records (`docker buildx prune`): unused ones not held by an image, or as the flags below say'],
    ['--all', 'with --cache: also records an image tag holds'],
    ['--keep-storage SIZE', 'with --cache: keep this much build cache (e.g. 2GB), least recently used goes first'],
    ['--filter FILTER', 'with --cache: until=24h / unused-for=24h, type=regular|exec.cachemount|source.git.checkout, id=PREFIX, description~=RE (repeatable: any matches)'],
    ['-f, --force', 'do not ask for confirmation'],
  ],
  options: {
    grace: { type: 'string' },
    cache: { type: 'boolean' },
    all: { type: 'boolean' },
    'keep-storage': { type: 'string' },
    filter: { type: 'string', multiple: true },
    force: { type: 'boolean', short: 'f' },
  },
  async run(ctx, args) {
    const grace = typeof args.values.grace === 'string' ? Number(args.values.grace) * 1000 : undefined;
    // A typo must not silently fall back to the default grace.
    if (grace !== undefined && !(Number.isFinite(grace) && grace >= 0)) throw new UsageError(`--grace wants a number of seconds, not ${JSON.stringify(args.values.grace)}`);
    const graceMs = grace !== undefined ? { graceMs: grace } : {};
    if (flag(args, 'cache')) return pruneCache(ctx, args, graceMs);
    for (const f of ['all', 'keep-storage', 'filter']) if (args.values[f] !== undefined) throw new UsageError(`--${f} applies to the build cache: add --cache`);
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

/**
 * `prune --cache`: `docker buildx prune` — asks first (its wording), then
 * lists each removed record as buildctl's prune table (ID, RECLAIMABLE,
 * SIZE, LAST ACCESSED: cmd/buildctl/diskusage.go printTableRow) and the total.
 */
async function pruneCache(ctx: CliContext, args: ParsedArgs, graceMs: { graceMs?: number }): Promise<number> {
  const { policyFromFlags, parseSize, pruneBuildCache } = await import('@tsbuild/builder');
  const keep = str(args, 'keep-storage');
  const policy = usage(() => policyFromFlags({ all: flag(args, 'all'), filters: list(args, 'filter'), ...(keep !== undefined ? { keepStorage: parseSize(keep) } : {}) }));
  if (!flag(args, 'force')) {
    const what = policy.all ? 'all build cache' : 'all dangling build cache';
    if (!(await confirm(ctx, `WARNING! This will remove ${what}. Are you sure you want to continue? [y/N] `))) return 0;
  }
  const store = await storeFor(ctx);
  const rows: string[][] = [];
  const r = await pruneBuildCache(store, {
    signal: ctx.signal, policies: [policy], ...graceMs,
    onRemoved: (u) => rows.push([u.id, String(!u.inUse), humanSize(u.size) + (u.shared ? '*' : ''), timeAgo(u.lastUsedAt.toISOString())]),
  });
  if (rows.length) ctx.stdout.write(formatTable(['ID', 'RECLAIMABLE', 'SIZE', 'LAST ACCESSED'], rows));
  ctx.stdout.write(`Total:\t${humanSize(r.reclaimedBytes)}\n`);
  return 0;
}

/** Reads one answer line; only y/yes confirms (an empty or closed stdin is a no, as docker's prompt). */
async function confirm(ctx: CliContext, question: string): Promise<boolean> {
  ctx.stdout.write(question);
  const rl = createInterface({ input: ctx.stdin, terminal: false });
  try {
    for await (const line of rl) return /^y(es)?$/i.test(line.trim());
    return false;
  } finally {
    rl.close();
  }
}

function usage<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export const duCommand: Command = {
  name: 'du',
  summary: 'Show disk usage by kind, and the build cache as `docker buildx du`',
  usage: '[--verbose] [--filter FILTER] [--format table|json]',
  help: [
    ['-v, --verbose', 'list every build cache record: ID, type, size, created, last used, usage count, shared'],
    ['--filter FILTER', 'with --verbose: only the records matching (type=…, id=…, description~=…, shared, private)'],
    ['--format table|json', 'json: the kinds (or, with --verbose, the records) as JSON'],
  ],
  options: { format: { type: 'string' }, verbose: { type: 'boolean', short: 'v' }, filter: { type: 'string', multiple: true } },
  async run(ctx, args) {
    const store = await storeFor(ctx);
    const { openBuildCache, cacheUsage, matchesFilters, policyFromFlags } = await import('@tsbuild/builder');
    const filters = list(args, 'filter');
    usage(() => policyFromFlags({ filters }));
    const cache = openBuildCache(store.root);
    const [kinds, records] = await Promise.all([store.du({ signal: ctx.signal, roots: [cache] }), cacheUsage(store, cache)]);
    const listed = records.records.filter((r) => matchesFilters(r, filters)).sort((a, b) => b.lastUsedAt.getTime() - a.lastUsedAt.getTime());
    const verbose = flag(args, 'verbose');
    if (args.values.format === 'json') {
      ctx.stdout.write(JSON.stringify(verbose ? listed.map(({ owned: _o, writtenAt: _w, ...r }) => r) : kinds, null, 2) + '\n');
      return 0;
    }
    if (verbose) ctx.stdout.write(listed.map(verboseRecord).join(''));
    const total = kinds.reduce((n, u) => n + u.bytes, 0);
    const reclaimable = kinds.reduce((n, u) => n + u.reclaimableBytes, 0);
    ctx.stdout.write(
      formatTable(['TYPE', 'COUNT', 'SIZE', 'RECLAIMABLE'], [
        ...kinds.map((u) => [u.kind, String(u.count), humanSize(u.bytes), humanSize(u.reclaimableBytes)]),
        ['total', '', humanSize(total), humanSize(reclaimable)],
      ]),
    );
    ctx.stdout.write(`\nBuild cache: ${records.records.length} records\n${cacheSummary(records.records)}`);
    return 0;
  },
};

/** One record as buildctl's `du --verbose` prints it (printVerbose, cmd/buildctl/diskusage.go). */
function verboseRecord(r: UsageRecord): string {
  const rows: Array<[string, string]> = [
    ['ID', r.id],
    ...(r.parents.length ? [['Parents', r.parents.join(';')] as [string, string]] : []),
    ['Created at', r.createdAt.toISOString()],
    ['Reclaimable', String(!r.inUse)],
    ['Shared', String(r.shared)],
    ['Size', humanSize(r.size)],
    ...(r.description ? [['Description', r.description] as [string, string]] : []),
    ['Usage count', String(r.usageCount)],
    ['Last used', timeAgo(r.lastUsedAt.toISOString())],
    ['Type', r.type],
  ];
  return formatTable(['', ''], rows.map(([k, v]) => [`${k}:`, v])).split('\n').slice(1).join('\n') + '\n';
}

/** buildctl's printSummary: Shared/Private when something is shared, then Reclaimable and Total. */
function cacheSummary(records: readonly UsageRecord[]): string {
  const total = records.reduce((n, r) => n + r.size, 0);
  const shared = records.reduce((n, r) => n + (r.shared ? r.size : 0), 0);
  const reclaimable = records.reduce((n, r) => n + (r.inUse ? 0 : r.size), 0);
  const rows = [...(shared > 0 ? [['Shared:', humanSize(shared)], ['Private:', humanSize(total - shared)]] : []), ['Reclaimable:', humanSize(reclaimable)], ['Total:', humanSize(total)]];
  return formatTable(['', ''], rows).split('\n').slice(1).join('\n');
}

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
