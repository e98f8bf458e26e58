import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { digestAlgorithm, isIndexType, isManifestType, throwIfAborted, type Descriptor, type Digest, type Index, type Manifest } from '@tsbuild/core';
import { readJson } from '../content/helpers.js';
import { LayerVariants } from '../image/layer-variants.js';
import type { Cancellable, ContentStore, FsckProblem, FsckReport, ImageRecord, ImageStore, LeaseManager, Snapshotter } from '../types.js';
import { findStoreLeftovers, removeStoreLeftovers } from './leftovers.js';
import { ONE_HOUR_MS, ingestLeftovers } from './fs-scan.js';

export interface FsckOptions extends Cancellable {
  root: string;
  content: ContentStore;
  images: ImageStore;
  /** Remove corrupt blobs, tags whose target is missing or corrupt, ingest leftovers and what dead processes left. */
  repair?: boolean;
  /** With them, dead processes' leases and temporary snapshots are checked too (gc/leftovers.ts). */
  leases?: LeaseManager;
  snapshotter?: Snapshotter;
  /** Ingest files older than this are leftovers (default one hour; younger ones may be in-flight writes). */
  ingestMaxAgeMs?: number;
}

/**
 * Checks the store: re-hashes every blob (streaming), parses index.json,
 * walks every tag's manifest (or index → the manifests present) down to its
 * config and layers, checks the layer-variant entries, and lists ingest leftovers. A missing manifest under an
 * index is normal (single-platform pulls) and is not a problem; a missing
 * config or layer of a present manifest is `blob-missing` (not repairable).
 */
export async function fsck(options: FsckOptions): Promise<FsckReport> {
  const { content, images, repair = false, signal } = options;
  const report: FsckReport = { blobsChecked: 0, refsChecked: 0, problems: [] };
  const problem = (p: FsckProblem) => report.problems.push(p);
  const bad = new Set<Digest>();
  for await (const blob of content.walk()) {
    throwIfAborted(signal);
    report.blobsChecked++;
    const actual = await rehash(content, blob.digest, signal).catch((err: unknown) => err as Error);
    if (typeof actual === 'string' && actual === blob.digest) continue;
    bad.add(blob.digest);
    const corrupt = typeof actual === 'string';
    const p: FsckProblem = corrupt
      ? { kind: 'blob-digest', subject: blob.digest, message: `content hashes to ${actual}` }
      : { kind: 'blob-unreadable', subject: blob.digest, message: actual.message };
    if (repair && corrupt) {
      await content.delete(blob.digest).catch(() => undefined);
      p.repaired = true;
    }
    problem(p);
  }
  let records: ImageRecord[] = [];
  try {
    records = await images.list();
  } catch (err) {
    problem({ kind: 'index', subject: 'index.json', message: (err as Error).message });
  }
  const present = async (d: Descriptor) => !bad.has(d.digest) && (await content.info(d.digest).then(() => true, () => false));
  for (const record of records) {
    throwIfAborted(signal);
    report.refsChecked++;
    if (!(await present(record.target))) {
      const p: FsckProblem = { kind: 'ref-dangling', subject: record.name, message: `target ${record.target.digest} is missing or corrupt` };
      if (repair) {
        await images.delete(record.name).catch(() => undefined);
        p.repaired = true;
      }
      problem(p);
      continue;
    }
    for (const missing of await missingBlobs(content, record.target, present, signal)) {
      problem({ kind: 'blob-missing', subject: missing.digest, message: `${missing.mediaType} referenced by ${record.name} is missing or corrupt` });
    }
  }
  await checkVariants(new LayerVariants(options.root), present, repair, problem);
  const reported = new Set<string>();
  if (options.leases) {
    const lo = { root: options.root, leases: options.leases, ...(options.snapshotter ? { snapshotter: options.snapshotter } : {}) };
    const found = await findStoreLeftovers(lo);
    const { removed } = repair ? await removeStoreLeftovers(lo, found) : { removed: new Set<string>() };
    const done = (id: string) => (repair ? { repaired: removed.has(id) } : {});
    for (const s of found.orphanSnapshots) problem({ kind: 'snapshot-orphan', subject: s.key, message: s.key.includes('@') ? 'temporary snapshot of a process that is gone' : 'temporary snapshot of an earlier tsbuild, over an hour old', ...done(`snapshot:${s.key}`) });
    for (const f of found.orphanIngest) {
      reported.add(f.path);
      problem({ kind: 'ingest-leftover', subject: f.path, message: `${f.size} bytes left by a process that is gone`, ...done(`ingest:${f.path}`) });
    }
    for (const l of found.deadLeases) problem({ kind: 'lease-dead', subject: l.id, message: `lease of process ${l.pid} that is gone`, ...done(`lease:${l.id}`) });
  }
  for (const f of await ingestLeftovers(options.root, options.ingestMaxAgeMs ?? ONE_HOUR_MS)) {
    if (reported.has(f.path)) continue;
    const p: FsckProblem = { kind: 'ingest-leftover', subject: f.path, message: `${f.size} bytes left by an unfinished write` };
    if (repair) {
      await rm(f.path, { force: true });
      p.repaired = true;
    }
    problem(p);
  }
  return report;
}

/**
 * A layer-variant entry that does not parse, or names a compressed blob that
 * is missing or damaged, would send a push after a blob it cannot read:
 * reported, and removed on repair (the layer is compressed again when needed).
 */
async function checkVariants(variants: LayerVariants, present: (d: Descriptor) => Promise<boolean>, repair: boolean, problem: (p: FsckProblem) => void): Promise<void> {
  for await (const { path, source, variant } of variants.entries()) {
    if (variant && (await present({ mediaType: '', ...variant }))) continue;
    const p: FsckProblem = { kind: 'layer-variant', subject: path, message: variant ? `variant ${variant.digest} of layer ${source} is missing or corrupt` : 'unreadable entry' };
    if (repair) {
      await variants.remove(path);
      p.repaired = true;
    }
    problem(p);
  }
}

async function rehash(content: ContentStore, digest: Digest, signal: AbortSignal | undefined): Promise<string> {
  const hash = createHash(digestAlgorithm(digest));
  for await (const chunk of await content.reader(digest, signal ? { signal } : {})) hash.update(chunk as Buffer);
  return `${digestAlgorithm(digest)}:${hash.digest('hex')}`;
}

/** The config and layers of every manifest present under `target` that are absent. */
async function missingBlobs(content: ContentStore, target: Descriptor, present: (d: Descriptor) => Promise<boolean>, signal: AbortSignal | undefined): Promise<Descriptor[]> {
  const out: Descriptor[] = [];
  const queue = [target];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const d = queue.shift()!;
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    if (!isIndexType(d.mediaType) && !isManifestType(d.mediaType)) continue;
    if (!(await present(d))) continue;
    // unparsable JSON under a valid digest is not a store fault; resolveImage reports it to whoever uses the image
    const json = await readJson<Partial<Manifest & Index>>(content, d, signal ? { signal } : {}).catch(() => undefined);
    if (!json) continue;
    if (Array.isArray(json.manifests)) queue.push(...json.manifests);
    for (const child of [json.config, ...(json.layers ?? [])]) {
      if (child && !(await present(child))) out.push(child);
    }
  }
  return out;
}
