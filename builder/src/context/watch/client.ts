/**
 * The build's side of the context watcher (context-watch-daemon.ts): finds
 * or starts the store's daemon and asks it for the context root's
 * `(id, generation)` (the first query registers the root with it). Never fails a build: any error, a timeout, a
 * daemon that is starting or exiting — the answer is "unknown" (undefined),
 * and the build walks the context as it would without a watcher.
 *
 * Used only where inotify is reliable: Linux, the context root on
 * ext2/3/4, xfs, btrfs or tmpfs (statfs), and not when
 * `TSBUILD_CONTEXT_WATCH=0` (or the build's `contextWatch: false`).
 *
 * The socket: `<storeRoot>/run/watch.sock` (one daemon per store), or
 * `<tmpdir>/tsbuild-<uid>/watch-<sha256(storeRoot), 16 hex>.sock` when that
 * path is too long for a unix socket (108 bytes).
 *
 * A build registers its context only from the context's second build
 * (ContextWatchClient.forBuild): a first build only leaves a marker file
 * next to the context's memo, so contexts built once (a test suite's, a CI
 * runner's) start nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { RELIABLE_FS_TYPES, type WatchAnswer } from './protocol.js';
import { hostPrefix } from '@tsbuild/runtime';

/** What a ready daemon vouches for: nothing under the root changed while these stay the same. */
export interface WatchState {
  id: string;
  gen: number;
}

export interface ContextWatchOptions {
  contextDir: string;
  storeRoot: string;
  /**
   * Where TSBUILD_CONTEXT_WATCH (and, for tests, TSBUILD_CONTEXT_WATCH_IDLE_MS,
   * _MAX_ROOTS and _MAX_WATCHES: the daemon's bounds when this client starts it) are read; default process.env.
   */
  env?: NodeJS.ProcessEnv | undefined;
  /** false: no watcher (like TSBUILD_CONTEXT_WATCH=0). */
  enabled?: boolean | undefined;
  /** How long the daemon lives without queries; default 10 minutes. */
  idleMs?: number | undefined;
}

/** Connecting: a live daemon accepts at once. */
const CONNECT_TIMEOUT_MS = 50;
/** The whole query (the daemon drains its events first: ~1 ms when idle). */
const QUERY_TIMEOUT_MS = 250;
const DEFAULT_IDLE_MS = 10 * 60_000;
/** sun_path holds 108 bytes with its NUL. */
const MAX_SOCKET_PATH = 107;

const fromSource = import.meta.url.endsWith('.ts');
const daemonUrl = new URL(`./context-watch-daemon${fromSource ? '.ts' : '.js'}`, import.meta.url);

/** Whether the watcher may be used for `contextDir` (env, platform, filesystem). */
export function contextWatchUsable(contextDir: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform !== 'linux' || env.TSBUILD_CONTEXT_WATCH === '0') return false;
  try {
    return statSync(contextDir).isDirectory() && RELIABLE_FS_TYPES.has(statfsSync(contextDir).type);
  } catch {
    return false;
  }
}

/** The store's daemon socket path (see the module comment); undefined when none can be had. */
export function watchSocketPath(storeRoot: string): string | undefined {
  const inStore = join(storeRoot, 'run', 'watch.sock');
  if (Buffer.byteLength(inStore) <= MAX_SOCKET_PATH) return inStore;
  const hex = createHash('sha256').update(storeRoot).digest('hex').slice(0, 16);
  const fallback = join(tmpdir(), `tsbuild-${process.getuid?.() ?? 0}`, `watch-${hex}.sock`);
  return Buffer.byteLength(fallback) <= MAX_SOCKET_PATH ? fallback : undefined;
}

export class ContextWatchClient {
  private spawned = false;
  private probe: Promise<WatchAnswer | 'absent' | undefined> | undefined;

  private constructor(
    readonly contextDir: string,
    readonly socketPath: string,
    private readonly idleMs: number,
    private readonly bounds: string[],
  ) {}

  /** A client for the context, or undefined where the watcher is not used. */
  static for(options: ContextWatchOptions): ContextWatchClient | undefined {
    const env = options.env ?? process.env;
    if (options.enabled === false || !contextWatchUsable(options.contextDir, env)) return undefined;
    const socketPath = watchSocketPath(options.storeRoot);
    if (!socketPath) return undefined;
    const idle = options.idleMs ?? (Number(env.TSBUILD_CONTEXT_WATCH_IDLE_MS) > 0 ? Number(env.TSBUILD_CONTEXT_WATCH_IDLE_MS) : DEFAULT_IDLE_MS);
    const roots = Number(env.TSBUILD_CONTEXT_WATCH_MAX_ROOTS);
    const watches = Number(env.TSBUILD_CONTEXT_WATCH_MAX_WATCHES);
    const bounds = [String(roots > 0 ? roots : 0), String(watches > 0 ? watches : 0)];
    return new ContextWatchClient(options.contextDir, socketPath, idle, bounds);
  }

  /**
   * For a build: a client only from the context's second build on (the
   * first one records that it ran: an empty marker file next to the
   * context's memo). Undefined: walk, start nothing.
   */
  static forBuild(options: ContextWatchOptions): ContextWatchClient | undefined {
    const client = ContextWatchClient.for(options);
    if (!client) return undefined;
    try {
      const dir = join(options.storeRoot, 'cache', 'context-memo');
      const marker = join(dir, `${createHash('sha256').update(options.contextDir).digest('hex')}.built`);
      if (existsSync(marker)) return client;
      mkdirSync(dir, { recursive: true });
      writeFileSync(marker, '');
    } catch {
      // no marker: this build walks, and so may the next
    }
    return undefined;
  }

  /** Looks for the daemon and starts one if there is none, without waiting for either. */
  start(): void {
    this.probe ??= query(this.socketPath, this.contextDir).then((answer) => {
      if (answer === 'absent' || (answer !== undefined && answer.exiting)) this.spawn();
      return answer;
    });
  }

  /**
   * The daemon's (id, generation), asked now (call it before walking); waits
   * up to `waitMs` for a daemon this client started (or one still setting up)
   * to become ready. Undefined: unknown — walk.
   */
  async state(waitMs = 300): Promise<WatchState | undefined> {
    try {
      if (this.probe) await this.probe;
      const deadline = performance.now() + waitMs;
      for (;;) {
        const answer = await query(this.socketPath, this.contextDir);
        if (answer !== undefined && answer !== 'absent') {
          if (answer.unknown) {
            if (answer.exiting) this.spawn(); // for the next build
            return undefined;
          }
          if (answer.ready && typeof answer.gen === 'number' && typeof answer.id === 'string') return { id: answer.id, gen: answer.gen };
        } else if (answer === 'absent' && !this.spawned) this.spawn();
        // Not ready yet, or not listening yet: only worth waiting for when it is coming up.
        if (!this.spawned && answer === undefined) return undefined;
        if (performance.now() + 10 > deadline) return undefined;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    } catch {
      return undefined;
    }
  }

  private spawn(): void {
    if (this.spawned) return;
    this.spawned = true;
    try {
      const dir = dirname(this.socketPath);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const st = lstatSync(dir);
      if (!st.isDirectory() || st.uid !== (process.getuid?.() ?? st.uid)) return;
      const script = fileURLToPath(daemonUrl);
      const args = fromSource ? ['--import', tsxLoader(), script] : [script];
      // In the host's mount namespace: started from the CLI's private one, it would keep that namespace (and its mounts) alive.
      const [file, ...rest] = [...hostPrefix(), process.execPath, ...args, this.socketPath, String(this.idleMs), ...this.bounds, this.contextDir];
      const child = spawn(file!, rest, { detached: true, stdio: 'ignore', cwd: '/' });
      child.on('error', () => undefined);
      child.unref();
    } catch {
      // no daemon: builds walk
    }
  }
}

/** tsx's ESM loader, for a daemon run from the TypeScript source (tests). */
function tsxLoader(): string {
  const root = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  return pathToFileURL(join(root, 'dist/loader.mjs')).href;
}

/** One query about `contextDir` (registering it): the answer; 'absent' when nothing listens there; undefined on any other failure. */
export function query(socketPath: string, contextDir: string): Promise<WatchAnswer | 'absent' | undefined> {
  return new Promise((resolve) => {
    let done = false;
    let text = '';
    const sock = createConnection(socketPath);
    const finish = (value: WatchAnswer | 'absent' | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(connectTimer);
      clearTimeout(totalTimer);
      sock.destroy();
      resolve(value);
    };
    const connectTimer = setTimeout(() => finish(undefined), CONNECT_TIMEOUT_MS);
    const totalTimer = setTimeout(() => finish(undefined), QUERY_TIMEOUT_MS);
    sock.on('connect', () => {
      clearTimeout(connectTimer);
      sock.write(`${JSON.stringify({ q: contextDir })}\n`);
    });
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      try {
        const answer = JSON.parse(text.slice(0, nl)) as WatchAnswer;
        finish(answer && typeof answer === 'object' && typeof answer.id === 'string' ? answer : undefined);
      } catch {
        finish(undefined);
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => finish(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'absent' : undefined));
    sock.on('close', () => finish(undefined));
  });
}
