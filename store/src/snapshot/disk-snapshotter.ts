/**
 * What the overlay and copy snapshotters share: the containerd lifecycle over
 * the metadata table, and the on-disk layout `<root>/snapshots/<id>/{fs,work}`.
 * Backends differ only in how a new snapshot's directory is filled and which
 * mounts describe it.
 *
 * Crash behaviour: a record is written before its directory is filled and
 * removed before its directory is deleted, so a crash leaves at worst an
 * orphan directory (no record), which garbage collection may delete.
 */
import { mkdirSync } from 'node:fs';
import { rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AlreadyExistsError, FailedPreconditionError, NotFoundError } from '@tsbuild/core';
import type { CommitOptions, Mount, SnapshotInfo, SnapshotKind, Snapshotter } from '../types.js';
import { SnapshotMetadata, type SnapshotRecord, type SnapshotTable } from './metadata.js';

export interface SnapshotLayout {
  /** Directory of the snapshot's files: `<root>/snapshots/<id>/fs`. */
  fs: string;
  /** Overlay work directory (active overlay snapshots only). */
  work: string;
}

export abstract class DiskSnapshotter implements Snapshotter {
  /** Which backend this is. */
  abstract readonly kind: 'overlay' | 'copy';
  readonly root: string;
  protected readonly meta: SnapshotMetadata;

  /** `root` is the store root; snapshots live under `<root>/snapshots/`. */
  constructor(root: string) {
    this.root = root;
    this.meta = new SnapshotMetadata(join(root, 'snapshots'));
  }

  /** Fills the directories of a new snapshot. `parents` are ids, nearest first. */
  protected abstract populate(id: number, kind: SnapshotKind, parents: number[]): Promise<void>;
  /** The mounts of a snapshot of this `kind` and id over `parents` (ids, nearest first). */
  protected abstract buildMounts(id: number, kind: SnapshotKind, parents: number[]): Mount[];

  protected layout(id: number): SnapshotLayout {
    const base = join(this.meta.dir, String(id));
    return { fs: join(base, 'fs'), work: join(base, 'work') };
  }

  prepare(key: string, parent?: string, options: { labels?: Record<string, string> } = {}): Promise<Mount[]> {
    return this.create('active', key, parent, options.labels);
  }

  view(key: string, parent?: string): Promise<Mount[]> {
    return this.create('view', key, parent);
  }

  async mounts(key: string): Promise<Mount[]> {
    const table = await this.meta.read();
    const record = lookup(table, key);
    return this.buildMounts(record.id, record.kind, parentIds(table, record.parent));
  }

  /**
   * Turns active `key` into committed `name`. `name` taken → AlreadyExistsError (racing unpackers treat
   * it as success). With `parent`, the snapshot is stacked on that one instead, which must be committed
   * and descend from (or be) its own parent; only the overlay snapshotter can, whose snapshot files are
   * a diff (a copy snapshot's are a whole tree: FailedPreconditionError).
   */
  async commit(name: string, key: string, options: CommitOptions = {}): Promise<void> {
    const rebase = options.parent;
    if (rebase !== undefined && this.kind !== 'overlay') {
      throw new FailedPreconditionError(`the ${this.kind} snapshotter cannot commit onto another parent`, { code: 'STORE_SNAPSHOT_NO_REBASE' });
    }
    const id = await this.meta.update((table) => {
      const record = lookup(table, key);
      if (record.kind !== 'active') {
        throw new FailedPreconditionError(`snapshot ${key} is ${record.kind}, only an active snapshot can be committed`, { code: 'STORE_SNAPSHOT_NOT_ACTIVE' });
      }
      if (table.snapshots[name]) throw new AlreadyExistsError(`snapshot ${name} already exists`, { code: 'STORE_SNAPSHOT_EXISTS' });
      const committed: SnapshotRecord = { ...record, kind: 'committed' };
      if (rebase !== undefined) {
        if (lookup(table, rebase).kind !== 'committed') {
          throw new FailedPreconditionError(`parent ${rebase} is not committed`, { code: 'STORE_SNAPSHOT_PARENT_NOT_COMMITTED' });
        }
        if (record.parent !== undefined && !ancestry(table, rebase).includes(record.parent)) {
          throw new FailedPreconditionError(`${rebase} does not descend from ${key}'s parent ${record.parent}`, { code: 'STORE_SNAPSHOT_BAD_REBASE' });
        }
        committed.parent = rebase;
      }
      delete table.snapshots[key];
      const labels = { ...record.labels, ...options.labels };
      if (Object.keys(labels).length > 0) committed.labels = labels;
      table.snapshots[name] = committed;
      return record.id;
    });
    await removeWorkDir(this.layout(id).work);
  }

  /** Removes `key` and its files. A committed snapshot that is some snapshot's parent → FailedPreconditionError. */
  async remove(key: string): Promise<void> {
    const id = await this.meta.update((table) => {
      const record = lookup(table, key);
      const child = Object.entries(table.snapshots).find(([, r]) => r.parent === key);
      if (child) {
        throw new FailedPreconditionError(`snapshot ${key} has a child (${child[0]}) and cannot be removed`, { code: 'STORE_SNAPSHOT_HAS_CHILDREN' });
      }
      delete table.snapshots[key];
      return record.id;
    });
    await rm(join(this.meta.dir, String(id)), { recursive: true, force: true });
  }

  async stat(key: string): Promise<SnapshotInfo> {
    return info(key, lookup(await this.meta.read(), key));
  }

  async *walk(): AsyncIterable<SnapshotInfo> {
    const table = await this.meta.read();
    for (const [key, record] of Object.entries(table.snapshots)) yield info(key, record);
  }

  /**
   * The snapshot's own files (the upper dir of an active overlay snapshot).
   * Synchronous, so it answers from the state this process last saw: call it
   * after this process prepared, viewed or looked up `key`.
   */
  dir(key: string): string {
    return this.layout(lookup(this.meta.cached, key).id).fs;
  }

  private async create(kind: SnapshotKind, key: string, parent: string | undefined, labels?: Record<string, string>): Promise<Mount[]> {
    const { id, parents } = await this.meta.update((table) => {
      if (table.snapshots[key]) throw new AlreadyExistsError(`snapshot ${key} already exists`, { code: 'STORE_SNAPSHOT_EXISTS' });
      if (parent !== undefined) {
        const p = lookup(table, parent);
        if (p.kind !== 'committed') {
          throw new FailedPreconditionError(`parent ${parent} is ${p.kind}, not committed`, { code: 'STORE_SNAPSHOT_PARENT_NOT_COMMITTED' });
        }
      }
      const id = table.nextId++;
      const record: SnapshotRecord = { id, kind, createdAt: new Date().toISOString() };
      if (parent !== undefined) record.parent = parent;
      if (labels && Object.keys(labels).length > 0) record.labels = { ...labels };
      table.snapshots[key] = record;
      return { id, parents: parentIds(table, parent) };
    }, { durable: false }); // see SnapshotMetadata.update: a lost active record only orphans a directory
    try {
      const mounts = this.buildMounts(id, kind, parents); // may refuse (e.g. options too long) before any copying
      await claimDir(join(this.meta.dir, String(id)));
      mkdirSync(this.layout(id).fs);
      await this.populate(id, kind, parents);
      return mounts;
    } catch (err) {
      await this.remove(key).catch(() => undefined);
      throw err;
    }
  }
}

/**
 * Creates a new snapshot's directory, which must not exist. One that does is
 * a machine crash's orphan: ids are handed out under the metadata lock, so no
 * live process can own a directory at or above the table's `nextId`, and an
 * active snapshot's record is written without an fsync, so after a crash the
 * table may hand out an id again whose directory was already made. Its old
 * files must not leak into the new snapshot: it is removed first.
 */
async function claimDir(dir: string): Promise<void> {
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    await rm(dir, { recursive: true, force: true });
    mkdirSync(dir);
  }
}

/**
 * An overlay work dir after its unmount holds only overlay's empty `work/`:
 * two rmdirs (a generic recursive rm costs a millisecond of every commit);
 * anything else falls back to it. A copy snapshot has none.
 */
async function removeWorkDir(work: string): Promise<void> {
  try {
    await rmdir(join(work, 'work')).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await rmdir(work);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') await rm(work, { recursive: true, force: true });
  }
}

function lookup(table: SnapshotTable, key: string): SnapshotRecord {
  const record = table.snapshots[key];
  if (!record) throw new NotFoundError(`snapshot ${key} does not exist`, { code: 'STORE_SNAPSHOT_NOT_FOUND' });
  return record;
}

/** Keys of `key` and its ancestors, nearest first (none for undefined). */
function ancestry(table: SnapshotTable, key: string | undefined): string[] {
  const keys: string[] = [];
  for (let k = key; k !== undefined; k = lookup(table, k).parent) keys.push(k);
  return keys;
}

/** Ids of `parent` and its ancestors, nearest first. */
function parentIds(table: SnapshotTable, parent: string | undefined): number[] {
  return ancestry(table, parent).map((k) => lookup(table, k).id);
}

function info(key: string, record: SnapshotRecord): SnapshotInfo {
  const out: SnapshotInfo = { key, kind: record.kind, createdAt: record.createdAt };
  if (record.parent !== undefined) out.parent = record.parent;
  if (record.labels) out.labels = { ...record.labels };
  return out;
}

/** A bind mount of `dir`, as containerd writes it (mount(8) understands `-t bind -o rbind,…`). */
export function bindMount(dir: string, readonly: boolean): Mount {
  return { type: 'bind', source: dir, options: ['rbind', readonly ? 'ro' : 'rw'] };
}
