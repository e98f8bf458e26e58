/**
 * Reclaiming what dead processes left on the host: containers still running
 * from their bundles, mounts under their folders, the folders themselves
 * (owner-dirs.ts names each folder for its owner's pid and start time).
 *
 * A CLI's mounts die with its private mount namespace; what can outlive it is
 * its folders, a container it started (the runtime and the container are not
 * its children in the kernel's sense of "dies with"), and — for a process that
 * used the programmatic API, which has no namespace of its own — its mounts in
 * the host's namespace. The cheap part (a readdir per base and a read of
 * /proc/PID/stat per folder) runs at every start; the rest only when a folder
 * of a dead owner exists.
 *
 * Order matters: containers are deleted first (their runtime processes hold
 * namespaces with the mounts), then mounts are detached in the host's
 * namespace and in this one (a private namespace is a copy, taken at start,
 * of the host's), and a folder is removed only when nothing is mounted under
 * it any more in this process's view — a recursive rm through a mounted
 * overlay would delete a snapshot's files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ownerAlive, parseOwner } from '@tsbuild/core';
import { hostMounts, hostNamespacePath, ownMounts, unmountInHost, type MountEntry } from './namespace.js';
import { DEFAULT_BUNDLE_DIR, DEFAULT_MOUNT_DIR } from './owner-dirs.js';
import { sys } from './sys.js';

export interface HostLeftover {
  kind: 'container' | 'mount' | 'bundle' | 'mount-point';
  /** The container's state dir, the mount point, or the folder. */
  path: string;
  /** `<pid>-<start>` of the dead process that made it. */
  owner: string;
  repaired?: boolean;
}

export interface ReclaimHostOptions {
  /** Executors' bundle bases; default /run/tsbuild/bundles. */
  bundleDirs?: readonly string[];
  /** Mount point bases; default /run/tsbuild/mnt. */
  mountDirs?: readonly string[];
  /** Runtime binary → its `--root`; default crun and runc under /run/tsbuild. */
  stateDirs?: Readonly<Record<string, string>>;
  /** Remove what is found (default: only report). */
  repair?: boolean;
}

const MNT_DETACH = 2;

export function reclaimHost(options: ReclaimHostOptions = {}): HostLeftover[] {
  const bundleBases = options.bundleDirs ?? [DEFAULT_BUNDLE_DIR];
  const dead = [...deadOwnerDirs(bundleBases, 'bundle'), ...deadOwnerDirs(options.mountDirs ?? [DEFAULT_MOUNT_DIR], 'mount-point')];
  if (dead.length === 0) return [];
  const repair = options.repair ?? false;
  const found: HostLeftover[] = [];
  const stateDirs = options.stateDirs ?? { crun: '/run/tsbuild/crun', runc: '/run/tsbuild/runc' };
  for (const d of dead.filter((x) => x.kind === 'bundle')) {
    for (const id of d.entries) {
      for (const [runtime, state] of Object.entries(stateDirs)) {
        if (!existsSync(join(state, id))) continue;
        const leftover: HostLeftover = { kind: 'container', path: join(state, id), owner: d.owner };
        if (repair) leftover.repaired = deleteContainer(runtime, state, id);
        found.push(leftover);
      }
    }
  }
  const under = (mounts: MountEntry[]) =>
    mounts.map((m) => m.target).filter((t) => dead.some((d) => t.startsWith(`${d.dir}/`))).sort((a, b) => b.length - a.length);
  const hostTargets = under(hostMounts());
  const ownerOf = (target: string) => dead.find((d) => target.startsWith(`${d.dir}/`))!.owner;
  const mountLeftovers = hostTargets.map((target): HostLeftover => ({ kind: 'mount', path: target, owner: ownerOf(target) }));
  found.push(...mountLeftovers);
  if (repair) {
    if (hostNamespacePath()) unmountInHost(hostTargets);
    for (const target of under(ownMounts())) {
      try {
        sys().umount2(target, MNT_DETACH);
      } catch {
        // gone meanwhile
      }
    }
  }
  const stillMounted = repair ? under(ownMounts()) : [];
  if (repair) {
    const left = new Set(hostNamespacePath() ? under(hostMounts()) : stillMounted);
    for (const l of mountLeftovers) l.repaired = !left.has(l.path);
  }
  for (const d of dead) {
    const blocked = stillMounted.some((t) => t.startsWith(`${d.dir}/`));
    if (repair && !blocked) rmSync(d.dir, { recursive: true, force: true });
    for (const name of d.entries) found.push({ kind: d.kind, path: join(d.dir, name), owner: d.owner, ...(repair ? { repaired: !blocked } : {}) });
  }
  return found;
}

interface DeadDir {
  dir: string;
  owner: string;
  kind: 'bundle' | 'mount-point';
  entries: string[];
}

/** The folders under `bases` whose owner process is gone. */
function deadOwnerDirs(bases: readonly string[], kind: DeadDir['kind']): DeadDir[] {
  const out: DeadDir[] = [];
  for (const base of bases) {
    let names: string[];
    try {
      names = readdirSync(base);
    } catch {
      continue;
    }
    for (const name of names) {
      const owner = parseOwner(name);
      if (!owner || ownerAlive(owner)) continue;
      const dir = join(base, name);
      let entries: string[] = [];
      try {
        entries = readdirSync(dir);
      } catch {
        // removed meanwhile by another reclaim
      }
      out.push({ dir, owner: name, kind, entries });
    }
  }
  return out;
}

/**
 * `<runtime> delete --force`: kills the container and removes its state. Its
 * exit status is not the verdict (crun exits 1 when the container's process
 * died during the call, having removed the state all the same): the state
 * directory's absence is. Retried briefly.
 */
function deleteContainer(runtime: string, state: string, id: string): boolean {
  for (let attempt = 0; attempt < 10; attempt++) {
    spawnSync(runtime, ['--root', state, 'delete', '--force', id], { stdio: 'ignore' });
    if (!existsSync(join(state, id))) return true;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  }
  return false;
}
