/**
 * The context watcher: one small long-lived process per store that watches
 * the build contexts registered with it (root-watch.ts, one RootWatch each)
 * with inotify. A build asks it for its context's `(id, generation)` before
 * it walks the context; a memo recorded by an earlier build with the same
 * pair proves that nothing under the root changed since that build asked,
 * so its checksum results still hold (session.ts).
 *
 * Run as `node context-watch-daemon.js <socket> <idleMs> <maxRoots> <maxWatches> <root>`
 * (0: the default bound; `<root>`, the spawning build's context, is
 * registered at start so that it gets ready during that build), detached
 * (client.ts spawns it, in the host's mount namespace). Only node builtins
 * are imported: the process stays small, and the same file runs from the
 * bundle, from tsc's output and from the TypeScript source under tsx.
 *
 * Protocol: one JSON line `{"q": "<contextDir>"}` per connection, answered
 * by one JSON line (protocol.ts). A query for a root the daemon does not
 * watch registers it (answer: not ready; its tree is walked next).
 *
 * Bounds (memory does not grow with the number of contexts built):
 * - at most MAX_ROOTS roots and MAX_WATCHES inotify watches in all; a root
 *   that would pass either bound evicts the least recently queried ones, and
 *   a root that alone passes MAX_WATCHES is refused (its builds walk, and
 *   it is not walked again until it has gone `idleMs` without queries);
 * - a root not queried for `idleMs` is dropped, and so is one whose directory
 *   is gone or replaced;
 * - the daemon exits when it watches nothing, when its socket file is no
 *   longer its own, and on SIGTERM.
 *
 * Known limitation (also in builder/README.md): writes through a shared
 * writable mmap, and writes to a hard-linked file through a path outside the
 * context, produce no inotify event on the context's directories. Such
 * changes are not seen while a watcher runs; `TSBUILD_CONTEXT_WATCH=0`
 * turns the watcher off.
 *
 * One per store: the socket bind is the lock (a stale socket file of a dead
 * daemon is replaced).
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';

import { RootWatch } from './root-watch.js';
import type { WatchAnswer } from './protocol.js';

/** Roots watched at once (least recently queried evicted first). */
export const MAX_ROOTS = 64;
/** inotify watches held at once, over all roots (the kernel's default max_user_watches is 8192 on older kernels). */
export const MAX_WATCHES = 4096;

export function runWatchDaemon(socketPath: string, idleMs: number, maxRoots = MAX_ROOTS, maxWatches = MAX_WATCHES, firstRoot?: string): void {
  /** Insertion order is query order (a query moves its root to the end): the first entry is the least recently used. */
  const roots = new Map<string, RootWatch>();
  /** Roots refused for passing maxWatches alone, and when: answered "unknown" without another walk until idle. */
  const refused = new Map<string, number>();
  const started = Date.now();
  let socketIno = -1;
  let exiting = false;

  const server = createServer((sock) => serve(sock));

  const exit = (): void => {
    if (exiting) return;
    exiting = true;
    for (const r of [...roots.values()]) r.die();
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

  const onDie = (r: RootWatch): void => {
    if (roots.get(r.root) === r) roots.delete(r.root);
    if (roots.size === 0 && refused.size === 0) exit();
  };

  /** Evicts least recently queried roots (never `keep`) until the bounds hold; false when `keep` alone passes them. */
  const enforceBounds = (keep: RootWatch): boolean => {
    const total = (): number => [...roots.values()].reduce((n, r) => n + r.watches, 0);
    for (const r of roots.values()) {
      if (roots.size <= maxRoots && total() <= maxWatches) break;
      if (r !== keep) r.die();
    }
    return keep.watches <= maxWatches;
  };

  const refuse = (r: RootWatch): void => {
    if (refused.size >= maxRoots) refused.delete(refused.keys().next().value!);
    refused.set(r.root, Date.now());
    r.die();
  };

  const register = (root: string): RootWatch | undefined => {
    let r: RootWatch;
    try {
      r = new RootWatch(root, onDie);
    } catch {
      return undefined;
    }
    roots.set(root, r);
    setImmediate(() => {
      if (r.dead) return;
      r.setUp();
      if (!r.dead && !enforceBounds(r)) refuse(r);
    });
    return r;
  };

  /** A root that died answering may have been the last: then say the daemon is going. */
  const withExiting = (answer: WatchAnswer): WatchAnswer => (exiting ? { ...answer, exiting: true } : answer);

  const answerFor = (root: string): WatchAnswer => {
    if (exiting) return { id: '', ready: false, unknown: true, exiting: true };
    if (refused.has(root)) {
      refused.delete(root);
      refused.set(root, Date.now());
      return { id: '', ready: false, unknown: true };
    }
    let r = roots.get(root);
    if (r) {
      // Most recently used: to the end of the map.
      roots.delete(root);
      roots.set(root, r);
      // Its tree may have grown since it was set up.
      if (!r.dead && !enforceBounds(r)) refuse(r);
      return withExiting(r.answer());
    }
    r = register(root);
    return r ? withExiting(r.answer()) : { id: '', ready: false, unknown: true };
  };

  const serve = (sock: Socket): void => {
    sock.on('error', () => undefined);
    sock.setEncoding('utf8');
    let text = '';
    let asked = false;
    sock.on('data', (chunk: string) => {
      if (asked) return;
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      asked = true;
      let root: unknown;
      try {
        root = (JSON.parse(text.slice(0, nl)) as { q?: unknown }).q;
      } catch {
        // answered "unknown" below
      }
      void drain().then(() => {
        const answer: WatchAnswer = typeof root === 'string' && root.startsWith('/') ? answerFor(root) : { id: '', ready: false, unknown: true, exiting };
        sock.end(`${JSON.stringify(answer)}\n`);
      });
    });
  };

  const setUp = (): void => {
    try {
      socketIno = lstatSync(socketPath).ino;
    } catch {
      process.exit(0);
    }
    if (firstRoot?.startsWith('/') && !register(firstRoot)) exit();
    const timer = setInterval(() => {
      const now = Date.now();
      for (const r of [...roots.values()]) {
        if (now - r.lastQuery > idleMs || !r.intact()) r.die();
      }
      for (const [root, at] of refused) if (now - at > idleMs) refused.delete(root);
      // Spawned for a query that never came (or every root went): nothing to do.
      if (roots.size === 0 && refused.size === 0 && now - started > Math.min(idleMs, 5000)) exit();
      // Another daemon took the socket path (or it was removed): nobody can ask this one any more.
      try {
        if (lstatSync(socketPath).ino !== socketIno) exit();
      } catch {
        exit();
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

/**
 * A few full turns of the event loop before answering: inotify events the
 * kernel queued before the query (every write that returned before the
 * client asked) are counted first. libuv reads the inotify fd until EAGAIN
 * in one poll phase. An inotify queue overflow (libuv drops IN_Q_OVERFLOW
 * silently) needs 16,384 queued events of this process's own inotify
 * instance, which are read (and counted) before the next answer.
 */
async function drain(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
  await new Promise<void>((resolve) => setImmediate(resolve));
}

// Entry point: `node context-watch-daemon.js <socket> <idleMs> <maxRoots> <maxWatches> <root>`.
const [, self, socketArg, idleArg, rootsArg, watchesArg, rootArg] = process.argv;
if (self && /context-watch-daemon\.(js|ts|mjs)$/.test(self) && socketArg) {
  const positive = (arg: string | undefined, fallback: number): number => (Number(arg) > 0 ? Number(arg) : fallback);
  runWatchDaemon(socketArg, positive(idleArg, 600_000), positive(rootsArg, MAX_ROOTS), positive(watchesArg, MAX_WATCHES), rootArg);
}
