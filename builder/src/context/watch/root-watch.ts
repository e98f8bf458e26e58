/**
 * One watched context root inside the store's watcher daemon
 * (context-watch-daemon.ts): inotify watches on every directory under the
 * root and a *generation* counter that grows on every event under it.
 *
 * Correctness (a wrong answer is a wrong build, so every doubt is "unknown"):
 * - one fs.watch (one inotify watch) per directory, added by walking the tree
 *   when the root is registered; the root answers only after that walk;
 * - every event bumps the generation, before and after any watch is added or
 *   removed for it, inside one synchronous handler: a change made while a
 *   watch is being replaced happened before the next answer, so the build that
 *   gets that answer walks after it and sees it;
 * - an event naming an entry that is now a directory (created, moved in,
 *   chmod'ed…) drops any watches at and below that path and watches it again
 *   with its whole subtree (a directory deleted and recreated may reuse the
 *   inode number, so a known inode is never trusted);
 * - the daemon drains the event loop before answering (see drain() there);
 * - the root must keep its dev+ino (checked on every query), its filesystem
 *   must be one where inotify is reliable (ext2/3/4, xfs, btrfs, tmpfs; every
 *   watched directory on another device is checked too), and the set of mount
 *   points at or under the root must not change (a mount brings content that
 *   made no event); a watcher error, a failed watch (e.g. the
 *   max_user_watches limit), any event the root reports about itself, or a
 *   failed check → the root is dropped ("unknown"): its id is never used again.
 *
 * Only node builtins are imported (the daemon stays small).
 */
import { lstatSync, readdirSync, readFileSync, realpathSync, statfsSync, statSync, watch, type FSWatcher } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';

import { RELIABLE_FS_TYPES, type WatchAnswer } from './protocol.js';

export class RootWatch {
  /** Random per registration: a memo of an earlier registration never matches. */
  readonly id = randomUUID();
  lastQuery = Date.now();
  dead = false;
  private generation = 0;
  private ready = false;
  private readonly watched = new Map<string, FSWatcher>();
  private readonly rootDev: number;
  private readonly rootIno: number;
  private readonly rootName: string;
  private readonly realRoot: string;
  private readonly mountsAtStart: string;

  /** Throws when the root cannot be watched (not a directory, unreliable filesystem). */
  constructor(
    readonly root: string,
    private readonly onDie: (w: RootWatch) => void,
  ) {
    const st = statSync(root);
    if (!st.isDirectory() || !RELIABLE_FS_TYPES.has(statfsSync(root).type)) throw new Error(`cannot watch ${root}`);
    this.rootDev = st.dev;
    this.rootIno = st.ino;
    this.rootName = basename(root);
    this.realRoot = realpathSync(root);
    this.mountsAtStart = mountPointsUnder(this.realRoot);
  }

  /** Number of inotify watches held. */
  get watches(): number {
    return this.watched.size;
  }

  /** Walks the tree and watches it; on any failure the root dies. */
  setUp(): void {
    try {
      this.watchTree(this.root);
      if (!this.intact()) throw new Error('root changed during setup');
      this.ready = true;
    } catch {
      this.die();
    }
  }

  /** The answer to a query, after the caller drained queued events. */
  answer(): WatchAnswer {
    this.lastQuery = Date.now();
    if (!this.dead && !this.intact()) this.die();
    if (this.dead) return { id: this.id, ready: false, unknown: true };
    return this.ready ? { id: this.id, ready: true, gen: this.generation } : { id: this.id, ready: false };
  }

  /** The root still is the directory it was, with the same mounts under it. */
  intact(): boolean {
    try {
      const st = statSync(this.root);
      return st.dev === this.rootDev && st.ino === this.rootIno && mountPointsUnder(this.realRoot) === this.mountsAtStart;
    } catch {
      return false;
    }
  }

  die(): void {
    if (this.dead) return;
    this.dead = true;
    this.generation++;
    for (const w of this.watched.values()) w.close();
    this.watched.clear();
    this.onDie(this);
  }

  /** Drops the watches at and below `path`. */
  private unwatch(path: string): void {
    const prefix = `${path}/`;
    for (const [p, w] of this.watched) {
      if (p === path || p.startsWith(prefix)) {
        w.close();
        this.watched.delete(p);
      }
    }
  }

  /** Watches directory `path` and every directory below it (after dropping any earlier watches there). */
  private watchTree(path: string): void {
    this.unwatch(path);
    const stack = [path];
    while (stack.length) {
      const dir = stack.pop()!;
      let st;
      try {
        st = lstatSync(dir);
      } catch (err) {
        if (isGone(err)) continue; // removed meanwhile: its parent's event says so
        throw err;
      }
      if (!st.isDirectory()) continue;
      if (st.dev !== this.rootDev && !RELIABLE_FS_TYPES.has(statfsSync(dir).type)) throw new Error(`unreliable filesystem at ${dir}`);
      const watcher = watch(dir, { persistent: true }, (_event, name) => this.onEvent(dir, name));
      watcher.on('error', () => this.die());
      this.watched.set(dir, watcher);
      let names;
      try {
        names = readdirSync(dir, { withFileTypes: true });
      } catch (err) {
        if (isGone(err)) continue;
        throw err;
      }
      for (const d of names) {
        // A name that is not valid UTF-8 cannot be named back exactly: no vouching for that tree.
        if (d.name.includes('\uFFFD')) throw new Error(`undecodable name in ${dir}`);
        if (d.isDirectory()) stack.push(`${dir}/${d.name}`);
      }
    }
  }

  private onEvent(dir: string, name: string | Buffer | null): void {
    this.generation++;
    if (this.dead) return;
    try {
      const n = name === null ? null : String(name);
      if (n !== null && n.includes('\uFFFD')) throw new Error('undecodable name');
      if (dir === this.root && (n === null || n === this.rootName)) throw new Error('root event');
      if (n === null) {
        // No name: look at every subdirectory again.
        this.watchTree(dir);
      } else {
        const path = `${dir}/${n}`;
        let st;
        try {
          st = lstatSync(path);
        } catch (err) {
          if (!isGone(err)) throw err;
        }
        if (st?.isDirectory()) this.watchTree(path);
        else if (this.watched.has(path)) this.unwatch(path);
        // A self event (the directory itself deleted or moved) is named by its basename: check the directory.
        if (dir !== this.root && n === basename(dir)) {
          const self = statOrUndefined(dir);
          if (!self?.isDirectory()) this.unwatch(dir);
        }
      }
    } catch {
      this.die();
    }
    this.generation++;
  }
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function statOrUndefined(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** The mount points at or under `root` (from /proc/self/mountinfo), as one comparable string. */
function mountPointsUnder(root: string): string {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const point = line.split(' ')[4];
    if (point === undefined) continue;
    const decoded = point.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (decoded === root || decoded.startsWith(prefix)) out.push(line.split(' ').slice(0, 5).join(' '));
  }
  return out.sort().join('\n');
}
