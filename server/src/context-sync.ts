/**
 * The server's side of incremental context transfer, after BuildKit's file
 * sync: the client lists its context (path + stat, after .dockerignore;
 * session/filesync/filesync.go fsSyncProvider.handle filters with the
 * exclude patterns, then fsutil's sender streams stat packets), the receiver
 * compares the list with its own copy and asks for the files whose stat
 * differs (fsutil's receiver requests a file only when its stat changed),
 * and the client sends only those. BuildKit keeps that copy per "shared key"
 * (source/local/source.go snapshot: name + SharedKeyHint + the session's
 * shared key); here it is per client identity and client-chosen context id.
 *
 * A copy is `<dir>/<owner>/<id>/tree` with `index.json` beside it: the stat
 * each path had when it was written. Before files are received the index
 * is saved with those paths marked pending, so a transfer cut short leaves
 * them to be asked for (or removed) next time, never trusted.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@tsbuild/store';
import { checkEntry, receiveEntries, removeEntry, writeMetaEntry, type TreeEntry } from './tree.js';
import { ProtocolError, type ByteReader } from './wire.js';

const CONTEXT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

type IndexEntry = TreeEntry & { pending?: true };

export class ContextStore {
  private readonly locks = new Map<string, Promise<void>>();

  constructor(private readonly dir: string) {}

  /**
   * The context `id` of `owner`, held exclusively until `release` is called
   * (one sync and build at a time per context copy; other contexts go on).
   */
  async acquire(owner: string, id: string): Promise<ClientContext> {
    if (!CONTEXT_ID.test(id)) throw new ProtocolError(`context id ${JSON.stringify(id.slice(0, 200))}: 1-128 of [A-Za-z0-9._-]`);
    const dir = join(this.dir, createHash('sha256').update(owner).digest('hex').slice(0, 32), id);
    const prev = this.locks.get(dir) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const chain = prev.then(() => held);
    this.locks.set(dir, chain);
    await prev;
    await mkdir(join(dir, 'tree'), { recursive: true, mode: 0o700 });
    return new ClientContext(dir, () => {
      if (this.locks.get(dir) === chain) this.locks.delete(dir);
      release();
    });
  }
}

export class ClientContext {
  readonly tree: string;
  private index = new Map<string, IndexEntry>();
  private wanted: TreeEntry[] = [];
  /** Whether plan() changed the copy's directories or symlinks (the index then needs saving). */
  private changed = false;

  constructor(private readonly dir: string, readonly release: () => void) {
    this.tree = join(dir, 'tree');
  }

  /**
   * Brings the copy to the client's list except for file contents: removes
   * what is gone, makes directories and symlinks, and returns the indexes
   * (into `raw`) of the files whose content must be sent.
   */
  async plan(raw: unknown[]): Promise<number[]> {
    const entries = raw.map(checkEntry);
    const listed = new Map<string, TreeEntry>();
    for (const e of entries) {
      if (listed.has(e.path)) throw new ProtocolError(`context list names ${JSON.stringify(e.path)} twice`);
      listed.set(e.path, e);
    }
    this.index = await this.loadIndex();
    this.changed = false;
    // Removals first, children before parents, while every parent is still the directory we made.
    const gone = [...this.index.values()].filter((old) => {
      const now = listed.get(old.path);
      return !now || now.type !== old.type || old.pending || (old.type === 'symlink' && now.target !== old.target);
    });
    for (const old of gone.sort((a, b) => (a.path < b.path ? 1 : -1))) {
      await removeEntry(this.tree, old.path);
      this.index.delete(old.path);
    }
    const need: number[] = [];
    for (const [i, e] of entries.entries()) {
      const old = this.index.get(e.path);
      if (e.type === 'file') {
        if (!old || !sameStat(old, e)) need.push(i);
      } else if (!old || !sameStat(old, e)) {
        await writeMetaEntry(this.tree, e);
        this.index.set(e.path, e);
        this.changed = true;
      }
    }
    this.wanted = need.map((i) => entries[i]!);
    for (const e of this.wanted) this.index.set(e.path, { ...e, pending: true });
    if (gone.length > 0 || this.changed || need.length > 0) await this.saveIndex();
    return need;
  }

  /** Receives the files plan() asked for, in its order; returns the content bytes received. */
  async receive(reader: ByteReader, limits: { frame: number }): Promise<number> {
    let next = 0;
    const { bytes } = await receiveEntries(reader, this.tree, {
      frame: limits.frame,
      check: (e) => {
        const want = this.wanted[next++];
        if (!want || want.path !== e.path || e.type !== 'file' || e.size !== want.size) {
          throw new ProtocolError(`context upload: got ${JSON.stringify(e.path.slice(0, 200))}, expected ${want ? JSON.stringify(want.path) : 'the end'}`);
        }
      },
    });
    if (next !== this.wanted.length) throw new ProtocolError(`context upload ended after ${next} of ${this.wanted.length} files`);
    if (this.wanted.length === 0) return bytes;
    for (const e of this.wanted) this.index.set(e.path, e);
    await this.saveIndex();
    return bytes;
  }

  private async loadIndex(): Promise<Map<string, IndexEntry>> {
    const text = await readFile(join(this.dir, 'index.json'), 'utf8').catch(() => undefined);
    if (text !== undefined) {
      try {
        return new Map((JSON.parse(text) as IndexEntry[]).map((e) => [e.path, e]));
      } catch {
        // unreadable: start over below
      }
    }
    // No index (first sync, or one lost): what the tree holds is unknown, so it goes.
    await rm(this.tree, { recursive: true, force: true });
    await mkdir(this.tree, { mode: 0o700 });
    return new Map();
  }

  private async saveIndex(): Promise<void> {
    await writeFileAtomic(join(this.dir, 'index.json'), JSON.stringify([...this.index.values()]));
  }
}

function sameStat(a: TreeEntry, b: TreeEntry): boolean {
  return a.type === b.type && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.size === b.size && a.mtimeMs === b.mtimeMs && a.target === b.target;
}
