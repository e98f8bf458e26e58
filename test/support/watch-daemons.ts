/**
 * For the context-watcher tests (builder's and the CLI's): finding the
 * watcher daemons by their command line, and waiting for a condition.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Pids of watcher daemons whose command line mentions `marker` (e.g. the store's socket path). */
export function daemonPids(marker: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (cmd.includes('context-watch-daemon') && cmd.includes(marker)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/** Polls `cond` every 20 ms; throws naming `what` after `ms`. */
export async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Stops the watcher daemons whose command line mentions `marker` and waits until they have exited. */
export async function stopDaemons(marker: string): Promise<void> {
  for (const pid of daemonPids(marker)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // exited
    }
  }
  await until('daemons to exit', () => daemonPids(marker).length === 0);
}
