/**
 * Who made a thing that can outlive its maker (a lease, a bundle folder, a
 * mount point, an ingest file, a temporary snapshot): a process, named by its
 * pid and its start time — field 22 of /proc/PID/stat, clock ticks since boot.
 * A pid alone is not enough: pids are recycled, and a recycled pid would keep
 * a dead build's leftovers "alive" forever. Written `<pid>-<start>`; the
 * start time is the same for the process's whole life, so reading it once is
 * enough (`selfOwner`).
 */
import { readFileSync } from 'node:fs';

export interface ProcessOwner {
  pid: number;
  /** /proc/PID/stat field 22, as written there (a decimal string). */
  start: string;
}

/** The start time of `pid`, or undefined when there is no such process. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // Field 2 is `(comm)` and comm may hold spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[22 - 3];
}

let self: ProcessOwner | undefined;

/** This process as an owner. */
export function selfOwner(): ProcessOwner {
  return (self ??= { pid: process.pid, start: processStartTime(process.pid) ?? '0' });
}

/** Whether the process that `owner` names is still running (same pid, same start time). */
export function ownerAlive(owner: ProcessOwner): boolean {
  return processStartTime(owner.pid) === owner.start;
}

export function formatOwner(owner: ProcessOwner = selfOwner()): string {
  return `${owner.pid}-${owner.start}`;
}

const OWNER_RE = /^(\d+)-(\d+)$/;

/** The owner a `<pid>-<start>` string names, or undefined. */
export function parseOwner(text: string): ProcessOwner | undefined {
  const m = OWNER_RE.exec(text);
  return m ? { pid: Number(m[1]), start: m[2]! } : undefined;
}
