/**
 * Snapshot metadata: one JSON file, `<root>/snapshots/metadata.json`, mapping
 * each key to its on-disk id, kind, parent key, labels and creation time.
 * Every change is a read-modify-write under a cross-process lock file and an
 * atomic rename, so concurrent processes sharing a root see whole states only.
 * Ids are short decimal numbers (never reused) because overlay's `lowerdir=`
 * option must fit in one page: `<root>/snapshots/<id>/fs` keeps each entry short.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotKind } from '../types.js';
import { writeFileAtomic } from '../content/atomic-file.js';
import { withLock } from '../layout/lock-file.js';

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
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return (this.cached = emptyTable());
    }
    this.cached = JSON.parse(text) as SnapshotTable;
    return this.cached;
  }

  /** Runs `fn` on the current table under the lock; writes the table back if `fn` returns without throwing. */
  async update<T>(fn: (table: SnapshotTable) => T | Promise<T>, options: { signal?: AbortSignal } = {}): Promise<T> {
    await mkdir(this.dir, { recursive: true });
    return withLock(
      this.lockFile,
      async () => {
        const table = structuredClone(await this.read());
        const result = await fn(table);
        await writeFileAtomic(this.file, JSON.stringify(table, null, 1));
        this.cached = table;
        return result;
      },
      options.signal ? { signal: options.signal } : {},
    );
  }
}

function emptyTable(): SnapshotTable {
  return { version: 1, nextId: 1, snapshots: {} };
}
