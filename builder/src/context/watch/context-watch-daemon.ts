/**
 * The context watcher: a small long-lived process per build-context root
 * that watches the tree with inotify and keeps a *generation* counter that
 * grows on every event under the root. A build asks it for
 * `(daemonId, generation)` before it walks the context; a memo recorded by an
 * earlier build with the same pair proves that nothing under the root changed
 * since that build asked, so its checksum results still hold (session.ts).
 *
 * Run as `node context-watch-daemon.js <root> <socket> <idleMs>`, detached
 * (client.ts spawns it). Only node builtins are imported: the process stays
 * small, and the same file runs from the bundle, from tsc's output and from
 * the TypeScript source under tsx.
 *
 * Correctness (a wrong answer is a wrong build, so every doubt is "unknown"):
 * - one fs.watch (one inotify watch) per directory, added by walking the tree
 *   at start; the daemon answers only after that walk ("ready");
 * - every event bumps the generation, before and after any watch is added or
 *   removed for it, inside one synchronous handler: a change made while a
 *   watch is being replaced happened before the next answer, so the build that
 *   gets that answer walks after it and sees it;
 * - an event naming an entry that is now a directory (created, moved in,
 *   chmod'ed…) drops any watches at and below that path and watches it again
 *   with its whole subtree (a directory deleted and recreated may reuse the
 *   inode number, so a known inode is never trusted);
 * - before answering, the event loop runs a few full iterations, so inotify
 *   events the kernel queued before the query (every write that returned
 *   before the client asked) are counted first. libuv reads the inotify fd
 *   until EAGAIN in one poll phase;
 * - an inotify queue overflow (libuv drops IN_Q_OVERFLOW silently) needs
 *   16,384 queued events of this process's own inotify instance, which are
 *   read (and counted) before the next answer, so no answer predates them;
 * - the root must keep its dev+ino (checked on every query), its filesystem
 *   must be one where inotify is reliable (ext2/3/4, xfs, btrfs, tmpfs; every
 *   watched directory on another device is checked too), and the set of mount
 *   points at or under the root must not change (a mount brings content that
 *   made no event); a watcher error, a failed watch (e.g. the
 *   max_user_watches limit), any event the root reports about itself, or a
 *   failed check → the daemon answers "unknown" and exits.
 *
 * Known limitation (also in builder/README.md): writes through a shared
 * writable mmap, and writes to a hard-linked file through a path outside the
 * context, produce no inotify event on the context's directories. Such
 * changes are not seen while a watcher runs; `TSBUILD_CONTEXT_WATCH=0`
 * turns the watcher off.
 *
 * Lifetime: exits after `idleMs` without queries, when the root disappears or
 * is replaced, and when its socket file is no longer its own. One per root:
 * the socket bind is the lock (a stale socket file of a dead daemon is
 * replaced).
 */
import { lstatSync, readdirSync, readFileSync, realpathSync, statfsSync, statSync, unlinkSync, watch, type FSWatcher } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';

import { RELIABLE_FS_TYPES, type WatchAnswer } from './protocol.js';

interface Watched {
  watcher: FSWatcher;
}

export function runWatchDaemon(root: string, socketPath: string, idleMs: number): void {
  const id = randomUUID();
  let generation = 0;
  let ready = false;
  let dead = false;
  let lastQuery = Date.now();
  const watched = new Map<string, Watched>();
  const rootStat = statSync(root);
  if (!rootStat.isDirectory() || !RELIABLE_FS_TYPES.has(statfsSync(root).type)) process.exit(0);
  const rootDev = rootStat.dev;
  const rootIno = rootStat.ino;
  const rootName = basename(root);
  const realRoot = realpathSync(root);
  const mountsAtStart = mountPointsUnder(realRoot);
  let socketIno = -1;

  const server = createServer((sock) => serve(sock));

  const die = (): void => {
    if (dead) return;
    dead = true;
    generation++;
    for (const w of watched.values()) w.watcher.close();
    watched.clear();
    server.close();
    removeOwnSocket();
    // Answers in flight get "unknown"; then go.
    setTimeout(() => process.exit(0), 50).unref();
  };

  const removeOwnSocket = (): void => {
    try {
      if (socketIno >= 0 && lstatSync(socketPath).ino === socketIno) unlinkSync(socketPath);
    } catch {
      // gone already
    }
  };

  /** Drops the watches at and below `path`. */
  const unwatch = (path: string): void => {
    const prefix = `${path}/`;
    for (const [p, w] of watched) {
      if (p === path || p.startsWith(prefix)) {
        w.watcher.close();
        watched.delete(p);
      }
    }
  };

  /** Watches directory `path` and every directory below it (after dropping any earlier watches there). */
  const watchTree = (path: string): void => {
    unwatch(path);
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
      if (st.dev !== rootDev && !RELIABLE_FS_TYPES.has(statfsSync(dir).type)) throw new Error(`unreliable filesystem at ${dir}`);
      const watcher = watch(dir, { persistent: true }, (_event, name) => onEvent(dir, name));
      watcher.on('error', () => die());
      watched.set(dir, { watcher });
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
  };

  const onEvent = (dir: string, name: string | Buffer | null): void => {
    generation++;
    if (dead) return;
    try {
      const n = name === null ? null : String(name);
      if (n !== null && n.includes('\uFFFD')) throw new Error('undecodable name');
      if (dir === root && (n === null || n === rootName)) throw new Error('root event');
      if (n === null) {
        // No name: look at every subdirectory again.
        watchTree(dir);
      } else {
        const path = `${dir}/${n}`;
        let st;
        try {
          st = lstatSync(path);
        } catch (err) {
          if (!isGone(err)) throw err;
        }
        if (st?.isDirectory()) watchTree(path);
        else if (watched.has(path)) unwatch(path);
        // A self event (the directory itself deleted or moved) is named by its basename: check the directory.
        if (dir !== root && n === basename(dir)) {
          const self = statOrUndefined(dir);
          if (!self?.isDirectory()) unwatch(dir);
        }
      }
    } catch {
      die();
    }
    generation++;
  };

  const rootIntact = (): boolean => {
    try {
      const st = statSync(root);
      return st.dev === rootDev && st.ino === rootIno && mountPointsUnder(realRoot) === mountsAtStart;
    } catch {
      return false;
    }
  };

  const serve = (sock: Socket): void => {
    sock.on('error', () => undefined);
    let asked = false;
    sock.on('data', () => {
      if (asked) return;
      asked = true;
      lastQuery = Date.now();
      void drain().then(() => {
        let answer: WatchAnswer;
        if (dead) answer = { id, ready: false, unknown: true };
        else if (!rootIntact()) {
          die();
          answer = { id, ready: false, unknown: true };
        } else answer = ready ? { id, ready: true, gen: generation } : { id, ready: false };
        sock.end(`${JSON.stringify(answer)}\n`);
      });
    });
  };

  const setUp = (): void => {
    try {
      const st = lstatSync(socketPath);
      socketIno = st.ino;
    } catch {
      process.exit(0);
    }
    try {
      watchTree(root);
      if (!rootIntact()) throw new Error('root changed during setup');
      ready = true;
    } catch {
      die();
      return;
    }
    const timer = setInterval(() => {
      if (Date.now() - lastQuery > idleMs) die();
      else {
        // Another daemon took the socket path (or it was removed): nobody can ask this one any more.
        try {
          if (lstatSync(socketPath).ino !== socketIno) die();
        } catch {
          die();
        }
        if (!rootIntact()) die();
      }
    }, Math.max(50, Math.min(idleMs / 4, 30_000)));
    timer.unref();
  };

  // The bind is the lock: a live daemon at this path answers, a dead one's socket file is replaced.
  let retried = false;
  server.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRINUSE' || retried) process.exit(0);
    retried = true;
    const probe = createConnection(socketPath);
    probe.on('connect', () => process.exit(0)); // a live daemon has it
    probe.on('error', () => {
      try {
        unlinkSync(socketPath);
      } catch {
        // someone else removed it
      }
      server.listen(socketPath, setUp);
    });
  });
  server.listen(socketPath, setUp);
  process.on('SIGTERM', () => {
    removeOwnSocket();
    process.exit(0);
  });
}

/** A few full turns of the event loop: inotify events queued before the query are handled first. */
async function drain(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
  await new Promise<void>((resolve) => setImmediate(resolve));
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

// Entry point: `node context-watch-daemon.js <root> <socket> <idleMs>`.
const [, self, rootArg, socketArg, idleArg] = process.argv;
if (self && /context-watch-daemon\.(js|ts|mjs)$/.test(self) && rootArg && socketArg) {
  runWatchDaemon(rootArg, socketArg, Number(idleArg) > 0 ? Number(idleArg) : 600_000);
}
