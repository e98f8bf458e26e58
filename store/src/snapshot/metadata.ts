/**
 * Snapshot metadata: one JSON file, `<root>/snapshots/metadata.json`, mapping
 * each key to its on-disk id, kind, parent key, labels and creation time.
 * Every change is a read-modify-write under a cross-process lock file and an
 * atomic rename, so concurrent processes sharing a root see whole states only.
 * Ids are short decimal numbers (not reused, except after a machine crash lost
 * an unflushed prepare: see DiskSnapshotter's claimDir) because overlay's `lowerdir=`
 * option must fit in one page: `<root>/snapshots/<id>/fs` keeps each entry short.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { throwIfAborted, withLock } from '@tsbuild/core';
import type { SnapshotKind } from '../types.js';
import { writeFileAtomic } from '../content/atomic-file.js';

export interface SnapshotRecord {
  id: number;
  kind: SnapshotKind;
  /** Key of the parent, which is always committed. */
  parent?: string;
  labels?: Record<string, string>;
  createdAt: string;
}

export interface SnapshotTable {
  version: 1;
  nextId: number;
  snapshots: Record<string, SnapshotRecord>;
}

export class SnapshotMetadata {
  readonly dir: string;
  private readonly file: string;
  private readonly lockFile: string;
  /** The last state this process read or wrote; serves the synchronous `dir(key)`. */
  cached: SnapshotTable = emptyTable();

  constructor(snapshotsDir: string) {
    this.dir = snapshotsDir;
    this.file = join(snapshotsDir, 'metadata.json');
    this.lockFile = join(snapshotsDir, 'metadata.lock');
  }

  async read(): Promise<SnapshotTable> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8'); // a small file in the page cache: cheaper than a thread-pool round trip
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return (this.cached = emptyTable());
    }
    this.cached = JSON.parse(text) as SnapshotTable;
    return this.cached;
  }

  /**
   * Runs `fn` on the current table under the lock; writes the table back if
   * `fn` returns without throwing. Updates asked for while one is being
   * written are group-committed: the next batch applies each in the order
   * asked, on a copy of the table so a throwing one changes nothing, and
   * writes (and fsyncs) once. Four RUN steps preparing their snapshots at once
   * used to queue for four lock, write and fsync rounds, and the last
   * container started ~45 ms after the first.
   *
   * `durable: false` (a new active snapshot or view) skips the fsyncs unless
   * another update of the batch needs them: losing such a record to a machine
   * crash leaves its directory an orphan, which is the state a crash between
   * record and directory may leave anyway (garbage collection removes it).
   * Commits and removals stay durable.
   */
  update<T>(fn: (table: SnapshotTable) => T | Promise<T>, options: { signal?: AbortSignal; durable?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (v: unknown) => void, reject, signal: options.signal, durable: options.durable ?? true });
      if (!this.draining) void this.drain();
    });
  }

  private pending: PendingUpdate[] = [];
  /** Whether a drain() is running; cleared in the same turn it sees no more pending updates. */
  private draining = false;

  /** Never rejects: each batch's failure goes to its updates. */
  private async drain(): Promise<void> {
    this.draining = true;
    // One turn of the event loop first, so that steps starting together share the first batch too.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      let outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }>;
      try {
        mkdirSync(this.dir, { recursive: true });
        outcomes = await withLock(this.lockFile, async () => {
          let table = await this.read();
          const done: typeof outcomes = [];
          let durable = false;
          for (const u of batch) {
            try {
              throwIfAborted(u.signal);
              const next = structuredClone(table);
              done.push({ ok: true, value: await u.fn(next) });
              table = next;
              durable ||= u.durable;
            } catch (error) {
              done.push({ ok: false, error });
            }
          }
          if (done.some((o) => o.ok)) await writeFileAtomic(this.file, JSON.stringify(table, null, 1), { durable });
          this.cached = table;
          return done;
        });
      } catch (error) {
        outcomes = batch.map(() => ({ ok: false, error }));
      }
      batch.forEach((u, i) => {
        const o = outcomes[i]!;
        if (o.ok) u.resolve(o.value);
        else u.reject(o.error);
      });
    }
    this.draining = false;
  }
}

interface PendingUpdate {
  fn: (table: SnapshotTable) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
  durable: boolean;
}

function emptyTable(): SnapshotTable {
  return { version: 1, nextId: 1, snapshots: {} };
}
