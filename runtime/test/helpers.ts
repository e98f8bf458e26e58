/** Test helpers for the runtime suites: a shared busybox lower dir, fresh overlays, captured output, leak checks. */
import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Writable } from 'node:stream';
import type { ExecRequest, Executor, Mount, RunOptions } from '@tsbuild/runtime';

export interface Overlay {
  upper: string;
  mount: Mount;
}

let counter = 0;
/** A fresh upper/work pair over `lower`, as a store snapshotter would hand it over. */
export function freshOverlay(base: string, lower: string): Overlay {
  const dir = join(base, `ov-${++counter}`);
  const upper = join(dir, 'upper');
  const work = join(dir, 'work');
  mkdirSync(upper, { recursive: true });
  mkdirSync(work);
  return { upper, mount: { type: 'overlay', source: 'overlay', options: ['index=off', `lowerdir=${lower}`, `upperdir=${upper}`, `workdir=${work}`] } };
}

export interface Captured {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Chunks in arrival order, tagged, with arrival time. */
  events: { stream: 'out' | 'err'; text: string; at: number }[];
  endedAt: number;
}

export function collector(stream: 'out' | 'err', events: Captured['events']): Writable {
  return new Writable({
    write(chunk: Buffer, _e, cb) {
      events.push({ stream, text: chunk.toString(), at: Date.now() });
      cb();
    },
  });
}

export async function capture(executor: Executor, request: ExecRequest, options: RunOptions = {}): Promise<Captured> {
  const events: Captured['events'] = [];
  const { exitCode } = await executor.run(request, { ...options, stdout: collector('out', events), stderr: collector('err', events) });
  const text = (s: 'out' | 'err') => events.filter((e) => e.stream === s).map((e) => e.text).join('');
  return { exitCode, stdout: text('out'), stderr: text('err'), events, endedAt: Date.now() };
}

/** Every path (relative) in `dir`, directories with a trailing slash. */
export function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const isDir = statSync(p, { throwIfNoEntry: false })?.isDirectory() && !isSymlink(p);
      out.push(relative(dir, p) + (isDir ? '/' : ''));
      if (isDir) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

function isSymlink(p: string): boolean {
  return lstatSync(p).isSymbolicLink();
}

/** Mount points from /proc/self/mountinfo under `prefix`. */
export function mountsUnder(prefix: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p.startsWith(prefix));
}

/** Pids whose command line contains `marker`. */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(marker)) pids.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}
