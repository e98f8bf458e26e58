/**
 * The borders of the store: small role interfaces (the containerd habit).
 * Implementations live next to this file; helpers take the narrowest role.
 * Every async method takes `{ signal }` where it can block for long.
 */
import type { Readable } from 'node:stream';
import type { Compression, Descriptor, Digest, Mount } from '@tsbuild/core';

export interface Cancellable {
  signal?: AbortSignal;
}

// ── content ────────────────────────────────────────────────────────────────

export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** Reads blobs. A missing blob is a NotFoundError (code STORE_BLOB_NOT_FOUND) naming the digest. */
export interface ContentProvider {
  info(digest: Digest): Promise<BlobInfo>;
  /** A stream of the blob's bytes; never buffers the whole blob. */
  reader(digest: Digest, options?: Cancellable & { start?: number }): Promise<Readable>;
}

export interface IngestExpectation {
  digest?: Digest;
  size?: number;
}

/**
 * Writes blobs. The stream goes to `ingest/` and is fsynced, then renamed into
 * `blobs/sha256/` only if it hashes (and sizes) to what was expected; a mismatch
 * throws DigestMismatchError and leaves nothing behind. Ingesting a blob that
 * exists is a cheap success; two processes ingesting the same blob at once both
 * succeed with one copy.
 */
export interface ContentIngester {
  ingest(source: Readable | AsyncIterable<Uint8Array>, expected?: IngestExpectation, options?: Cancellable): Promise<BlobInfo>;
}

export interface ContentManager {
  delete(digest: Digest): Promise<void>;
  walk(): AsyncIterable<BlobInfo>;
}

export interface ContentStore extends ContentProvider, ContentIngester, ContentManager {
  /** Path of a committed blob on disk (for hard-linking and mmap-free reads by tools). */
  blobPath(digest: Digest): string;
}

// ── images (tags in the OCI layout's index.json) ────────────────────────────

export interface ImageRecord {
  /** The familiar reference, e.g. `busybox:latest` or `localhost:5000/app:1`. */
  name: string;
  /** A manifest or an index. */
  target: Descriptor;
  /** When the tag was last written (ISO 8601). */
  createdAt?: string;
}

export interface ImageStore {
  list(): Promise<ImageRecord[]>;
  /** NotFoundError (code STORE_IMAGE_NOT_FOUND) when no tag matches. Accepts any spelling of a reference, or a digest / unique digest prefix. */
  get(ref: string): Promise<ImageRecord>;
  put(ref: string, target: Descriptor): Promise<ImageRecord>;
  delete(ref: string): Promise<void>;
}

// ── leases ─────────────────────────────────────────────────────────────────

export type LeaseResource = { type: 'content'; digest: Digest } | { type: 'snapshot'; key: string } | { type: 'cache'; key: string };

/**
 * A lease keeps resources alive while a build (possibly in another process)
 * still needs them: prune never removes what a live lease names. A lease
 * expires at `expiresAt`, or when the process that created it is gone.
 */
export interface Lease {
  id: string;
  createdAt: string;
  expiresAt?: string;
  pid?: number;
  /** The creating process's start time (/proc/PID/stat field 22): a recycled pid is not its owner. */
  pidStart?: string;
  resources: LeaseResource[];
}

export interface LeaseManager {
  create(options?: { id?: string; ttlMs?: number }): Promise<Lease>;
  addResource(leaseId: string, resource: LeaseResource): Promise<void>;
  /** Several at once: one read-modify-write of the lease (a build step adds a blob and a snapshot together). */
  addResources(leaseId: string, resources: readonly LeaseResource[]): Promise<void>;
  delete(leaseId: string): Promise<void>;
  list(): Promise<Lease[]>;
}

// ── snapshots ──────────────────────────────────────────────────────────────

/** core's Mount: what a snapshotter returns is what the runtime mounts. */
export type { Mount } from '@tsbuild/core';

export type SnapshotKind = 'committed' | 'active' | 'view';

export interface SnapshotInfo {
  key: string;
  kind: SnapshotKind;
  parent?: string;
  createdAt: string;
  labels?: Record<string, string>;
}

/**
 * Snapshots, containerd style. Lifecycle:
 *   prepare(key, parent) → an active snapshot: mounts() give a writable rootfs
 *   commit(name, key)    → the active snapshot becomes committed `name` (read-only, may be a parent)
 *   commit(name, key, { parent }) → the same, stacked on `parent` (a descendant of its own parent; overlay
 *                          only: its own files are a diff, which stays valid when no layer in between touches
 *                          what it wrote — the caller's proof, see builder/src/worker/file-op.ts)
 *   view(key, parent)    → a read-only active snapshot of parent
 *   remove(key)          → gone (a committed snapshot with children cannot be removed)
 * Committed layer snapshots are named by chain id, so unpacking an image reuses
 * whatever layers are already unpacked.
 */
export interface CommitOptions {
  labels?: Record<string, string>;
  /** Rebase: commit on this committed snapshot instead of the active one's parent (see above). */
  parent?: string;
}

export interface Snapshotter {
  prepare(key: string, parent?: string, options?: { labels?: Record<string, string> }): Promise<Mount[]>;
  view(key: string, parent?: string): Promise<Mount[]>;
  mounts(key: string): Promise<Mount[]>;
  commit(name: string, key: string, options?: CommitOptions): Promise<void>;
  remove(key: string): Promise<void>;
  stat(key: string): Promise<SnapshotInfo>;
  walk(): AsyncIterable<SnapshotInfo>;
  /** Directory holding the snapshot's own files (its upper dir for an active one). */
  dir(key: string): string;
}

// ── layers ─────────────────────────────────────────────────────────────────

export interface LayerWriteOptions extends Cancellable {
  compression?: Compression;
  /** Media type flavor of the returned descriptor. */
  flavor?: 'oci' | 'docker';
  /** Clamp mtimes to this (seconds since epoch), like SOURCE_DATE_EPOCH. */
  sourceDateEpoch?: number;
}

/** A committed layer: the compressed blob's descriptor and the uncompressed diffID. */
export interface LayerInfo {
  descriptor: Descriptor;
  diffID: Digest;
}

// ── maintenance ────────────────────────────────────────────────────────────

/** What a holder outside the store keeps alive: plain data. */
export interface GcRoots {
  blobs: Digest[];
  /** Snapshot keys; their parents are kept with them. */
  snapshots: string[];
}

/**
 * A holder of store resources whose own records the store does not read —
 * the builder's build cache (BuildKit's cache records likewise live apart
 * from containerd's content store). `prune` and `du` take the holders as a
 * parameter and ask each at every mark, under gc.lock: what `gcRoots`
 * reports survives, with the snapshots' parents; nothing else is kept for it.
 * So a holder must report everything it may still hand out, and throw rather
 * than report less when it cannot read its own state (the prune then fails
 * instead of collecting what it needs). `diskUsage` is its own files, which
 * `du` lists as `cache`.
 */
export interface GcRootProvider {
  gcRoots(options?: Cancellable): Promise<GcRoots>;
  diskUsage(options?: Cancellable): Promise<{ count: number; bytes: number }>;
}

export interface PruneResult {
  blobsRemoved: number;
  snapshotsRemoved: number;
  bytesReclaimed: number;
  /** Dead processes' leases, ingest files and temporary snapshots removed (gc/leftovers.ts). */
  leftoversRemoved?: number;
}

export interface DiskUsage {
  kind: 'images' | 'layers' | 'snapshots' | 'cache' | 'ingest' | 'other';
  count: number;
  bytes: number;
  reclaimableBytes: number;
}

export interface FsckProblem {
  kind:
    | 'blob-digest' | 'blob-missing' | 'blob-unreadable' | 'ref-dangling' | 'snapshot' | 'ingest-leftover' | 'index' | 'layer-variant'
    // what a dead process left (gc/leftovers.ts; and, from the CLI, runtime's reclaim.ts)
    | 'lease-dead' | 'snapshot-orphan' | 'container' | 'mount' | 'bundle' | 'mount-point';
  subject: string;
  message: string;
  repaired?: boolean;
}

export interface FsckReport {
  blobsChecked: number;
  refsChecked: number;
  problems: FsckProblem[];
}
