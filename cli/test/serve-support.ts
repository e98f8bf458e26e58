/**
 * `tsbuild serve` as a user runs it, for the CLI tests: the real binary in
 * its own process (so it can be SIGKILLed), on a unix socket, its stderr
 * collected.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const bin = resolve(import.meta.dirname, '../bin/tsbuild.js');

export interface ServeProcess {
  child: ChildProcess;
  /** The server's stderr so far, chunk by chunk. */
  log: string[];
  /** SIGTERM and wait for the exit (nothing if it has exited already). */
  stop(): Promise<void>;
}

/** Starts `tsbuild --root ROOT serve --addr unix://SOCK EXTRA...` and waits until it listens. */
export async function startServe(root: string, sock: string, extra: string[] = []): Promise<ServeProcess> {
  const log: string[] = [];
  const child = spawn(process.execPath, [bin, '--root', root, 'serve', '--addr', `unix://${sock}`, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (c: Buffer) => log.push(String(c)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await until(() => log.join('').includes('listening on') || child.exitCode !== null, 'the server to listen');
  if (child.exitCode !== null) throw new Error(`tsbuild serve exited ${child.exitCode}: ${log.join('')}`);
  return {
    child,
    log,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Runs `fn` with extra environment variables set (the in-process CLI reads process.env). */
export async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
