/**
 * The build cache as `buildx du` lists it: one usage record per cached
 * result. BuildKit lists cache refs (snapshots), each with its own layer's
 * size (cache/manager.go, DiskUsage); here a result is named by its output
 * key (a layer chain id), and every cache record with that output (a step's
 * record under its result key and its definition-key alias, or two steps
 * that built the same layers) is one usage record.
 *
 * A record names the whole chain it stands on (all layer blobs, its top
 * snapshot, which keeps its parents), so one layer is named by its own
 * result and by every result above it. Each blob and snapshot is owned by
 * the result with the shortest chain that names it — the one that made it —
 * and a usage record's size is what it owns, plus its record files: what
 * removing it frees once nothing above it is left. Like a BuildKit ref with
 * children, a result that others stand on (their chains hold its whole chain
 * and name what it owns) is not removable (`children > 0`); siblings that
 * share a blob (the empty layer of two RUNs that wrote nothing) are not
 * each other's children. `shared`: an image tag holds something it owns (BuildKit's
 * PruneRefChecker); `inUse`: a live lease does (a running build).
 *
 * Cache mounts (`RUN --mount=type=cache`, runtime's cache-mounts.ts) are
 * records of type `exec.cachemount`, one per id; in use while a live lease
 * names them (`cache-mount:<sha256(id) hex>`, held by the exec op).
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, isDigest, isNotFound, sha256, type Digest } from '@tsbuild/core';
import { isLeaseLive, markReachable, treeBytes, type Snapshotter, type Store } from '@tsbuild/store';
import type { CacheRecord, FileCacheStorage } from '../solver/index.js';
import type { FilterableRecord, UsageRecordType } from './policy.js';

export interface UsageRecord extends FilterableRecord {
  /** Bytes it alone holds (see above). */
  size: number;
  createdAt: Date;
  /** When its newest record was written (what it owns was made before). */
  writtenAt: Date;
  lastUsedAt: Date;
  usageCount: number;
  /** Cache keys of its records (none for a cache mount). */
  keys: string[];
  /** Records standing on it (their chains hold its own and name what it owns): it is removable once they are gone. */
  children: number;
  /** The ids of the records it stands on (BuildKit's `Parents`). */
  parents: string[];
  /** What it owns: `b:<digest>` / `s:<snapshot key>`; for a cache mount, `cache-mount:<hex>`. */
  owned: string[];
}

export interface CacheUsage {
  records: UsageRecord[];
  /** Bytes of the records that are not shared: what keep-storage is measured against (BuildKit's totalSize). */
  totalSize: number;
}

/** Where cache mounts live: `<root>/cache-mounts` (the CLI passes it to the runtime). */
export function cacheMountsDir(storeRoot: string): string {
  return join(storeRoot, 'cache-mounts');
}

/** The lease resource key of a cache mount id's directory. */
export function cacheMountLeaseKey(id: string): string {
  return `cache-mount:${digestHex(sha256(id))}`;
}

export async function cacheUsage(store: Store, cache: FileCacheStorage): Promise<CacheUsage> {
  const [held, results, mounts] = await Promise.all([heldResources(store), resultRecords(store, cache), cacheMountRecords(store.root)]);
  const records = [...results, ...mounts];
  for (const r of records) {
    r.shared = r.owned.some((o) => held.images.has(o));
    r.inUse = r.owned.some((o) => held.leases.has(o));
  }
  return { records, totalSize: records.reduce((n, r) => n + (r.shared ? 0 : r.size), 0) };
}

/** What image tags and live leases hold, as `b:`/`s:`/`cache-mount:` names. */
async function heldResources(store: Store): Promise<{ images: Set<string>; leases: Set<string> }> {
  const mark = await markReachable({ content: store.content, images: store.images, roots: [] });
  const images = new Set([...[...mark.blobs.keys()].map((d) => `b:${d}`), ...[...mark.snapshots].map((s) => `s:${s}`)]);
  const leases = new Set<string>();
  for (const lease of await store.leases.list()) {
    if (!isLeaseLive(lease)) continue;
    for (const r of lease.resources) leases.add(r.type === 'content' ? `b:${r.digest}` : r.type === 'snapshot' ? `s:${r.key}` : r.key);
  }
  return { images, leases };
}

/** The cache records, grouped by output, with owners, sizes and usage. */
async function resultRecords(store: Store, cache: FileCacheStorage): Promise<UsageRecord[]> {
  const groups = new Map<string, CacheRecord[]>();
  for await (const record of cache.walk()) {
    const list = groups.get(record.outputKey) ?? [];
    list.push(record);
    groups.set(record.outputKey, list);
  }
  const usage = await cache.usage();
  const names = new Map<string, Set<string>>();
  for (const [output, records] of groups) names.set(output, new Set(records.flatMap((r) => [...(r.blobs ?? []).map((b) => `b:${b}`), ...(r.snapshots ?? []).map((s) => `s:${s}`)])));
  // Each resource's owner: the output naming it with the fewest names (its maker), ties by output key.
  const owner = new Map<string, string>();
  for (const [output, set] of names) {
    for (const n of set) {
      const current = owner.get(n);
      if (current === undefined || set.size < names.get(current)!.size || (set.size === names.get(current)!.size && output < current)) owner.set(n, output);
    }
  }
  const blobNames = new Map([...names].map(([output, set]) => [output, [...set].filter((n) => n.startsWith('b:'))]));
  // H stands on G when H's chain holds G's whole chain (all of G's blobs) and names something G owns.
  const standsOn = (h: string, g: string): boolean => {
    const hNames = names.get(h)!;
    return blobNames.get(g)!.every((b) => hNames.has(b)) && [...names.get(g)!].some((n) => owner.get(n) === g && hNames.has(n));
  };
  const snapshotter = await store.snapshotter();
  const out: UsageRecord[] = [];
  for (const [output, records] of groups) {
    const owned = [...names.get(output)!].filter((n) => owner.get(n) === output);
    const parents = [...groups.keys()].filter((g) => g !== output && standsOn(output, g)).map(shortId);
    const children = [...groups.keys()].filter((h) => h !== output && standsOn(h, output)).length;
    let size = 0;
    for (const n of owned) size += n.startsWith('b:') ? await fileBytes(store.content.blobPath(n.slice(2) as Digest)) : await snapshotBytes(snapshotter, n.slice(2));
    for (const r of records) size += await cache.recordBytes(r.key);
    const hits = records.map((r) => usage.get(r.key));
    const first = records.reduce((a, b) => (a.createdAt <= b.createdAt ? a : b));
    out.push({
      id: shortId(output),
      type: recordType(first),
      description: first.explain?.name ?? '',
      shared: false,
      inUse: false,
      size,
      createdAt: new Date(first.createdAt),
      writtenAt: new Date(Math.max(...records.map((r) => Date.parse(r.createdAt) || 0))),
      lastUsedAt: new Date(Math.max(...records.map((r) => Date.parse(r.lastUsedAt) || 0), ...hits.map((h) => h?.lastUsedMs ?? 0))),
      usageCount: 1 + hits.reduce((n, h) => n + (h?.uses ?? 0), 0),
      keys: records.map((r) => r.key),
      children,
      parents,
      owned,
    });
  }
  return out;
}

/**
 * BuildKit's record type of a result: a git checkout by its source, everything
 * else `regular` (the context is never a snapshot of its own here, so there
 * is no `source.local`: a COPY from it is a regular layer, as in BuildKit).
 */
function recordType(record: CacheRecord): UsageRecordType {
  return record.explain?.definition?.source === 'git' ? 'source.git.checkout' : 'regular';
}

/** One record per cache mount id (`<root>/cache-mounts/<sha256(id)>`): its last use is its directory's newest mtime. */
async function cacheMountRecords(root: string): Promise<UsageRecord[]> {
  const base = cacheMountsDir(root);
  const out: UsageRecord[] = [];
  for (const hex of await readdir(base).catch(() => [] as string[])) {
    if (!/^[0-9a-f]{64}$/.test(hex)) continue;
    const dir = join(base, hex);
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    let last = st.mtimeMs;
    for (const name of await readdir(dir).catch(() => [] as string[])) last = Math.max(last, (await stat(join(dir, name)).catch(() => undefined))?.mtimeMs ?? 0);
    out.push({
      id: hex.slice(0, 25), type: 'exec.cachemount', description: `cache mount ${hex.slice(0, 12)}`,
      shared: false, inUse: false, size: await treeBytes(dir),
      createdAt: new Date(st.birthtimeMs || st.ctimeMs), writtenAt: new Date(last), lastUsedAt: new Date(last), usageCount: 0,
      keys: [], children: 0, parents: [], owned: [`cache-mount:${hex}`],
    });
  }
  return out;
}

/** A short id as BuildKit shows (25 characters): the output key's hex. */
function shortId(output: string): string {
  return (isDigest(output) ? digestHex(output as Digest) : digestHex(sha256(output))).slice(0, 25);
}

/** A snapshot's own files (its diff, on overlay); 0 for one that is not there (a record may name one not unpacked yet). */
async function snapshotBytes(snapshotter: Snapshotter, key: string): Promise<number> {
  try {
    await snapshotter.stat(key); // dir() answers from what this process last looked up
    return await treeBytes(snapshotter.dir(key));
  } catch (err) {
    if (isNotFound(err)) return 0;
    throw err;
  }
}

async function fileBytes(path: string): Promise<number> {
  return (await stat(path).catch(() => undefined))?.size ?? 0;
}
