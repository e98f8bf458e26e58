/**
 * The mechanics of RUN --mount: each ExecMount becomes a runtime-spec mount,
 * plus whatever host-side state it needs (an overlay for a writable bind, a
 * cache lease, an in-memory file holding a secret). Everything host-side lives
 * in the per-run directory, outside the rootfs, and is undone by `cleanup`.
 *
 * Secrets never touch a disk and never outlive the run's processes. BuildKit
 * writes each to a tmpfs on a host temp dir (solver/llbsolver/mounts/mount.go,
 * `secretMountInstance.Mount`: `os.MkdirTemp("", "buildkit-secrets")`, a
 * `tmpfs` with nodev,nosuid,uid=,gid=, unmounted and removed by its cleanup
 * func) — which a SIGKILL of the builder leaves mounted, in clear, on the host.
 * Here the tmpfs is only ever mounted in a private mount namespace, which the
 * kernel tears down with its last process, whatever kills it: the CLI's own
 * (cli/bin/tsbuild.js), or else one made for the runtime process alone
 * (`secretLauncher`: `unshare --mount --propagation private`, then a short sh
 * that mounts the tmpfs, copies the secrets in from sealed memfds — sys.ts
 * `memfdSecret`, anonymous memory with no path — and execs the runtime). No
 * process outside sees it mounted. (A memfd cannot be bind-mounted itself: it
 * lives on the kernel's internal shm mount, in no namespace — EINVAL.)
 */
import { chmodSync, chownSync, closeSync, rmdirSync, writeFileSync } from 'node:fs';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '@tsbuild/core';
import type { CacheMountManager } from './cache-mounts.js';
import { mount, unmount } from './mounter.js';
import { inPrivateNamespace } from './namespace.js';
import { sys } from './sys.js';
import type { SpecMount } from './spec-defaults.js';
import type { ExecMount } from './types.js';

export interface PreparedMounts {
  mounts: SpecMount[];
  env: string[];
  /** Undoes all host-side state; safe to call once, never throws for already-gone state. */
  cleanup(): Promise<void>;
  /** Set when the runtime must be started through it (secrets: see the header). */
  launcher?: Launcher;
}

export interface PrepareMountsOptions {
  runDir: string;
  cacheMounts?: CacheMountManager;
  signal?: AbortSignal;
}

export async function prepareMounts(mounts: ExecMount[], opts: PrepareMountsOptions): Promise<PreparedMounts> {
  const undo: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const fn of undo.splice(0).reverse()) await fn().catch(() => undefined);
  };
  const out: SpecMount[] = [];
  const env: string[] = [];
  let sshCount = 0;
  const secrets: SecretFile[] = [];
  let launcher: Launcher | undefined;
  try {
    for (const [i, m] of mounts.entries()) {
      switch (m.type) {
        case 'bind': {
          if (m.readonly !== false) {
            out.push(bind(m.target, m.source, true));
            break;
          }
          if (m.writeThrough) {
            out.push(bind(m.target, m.source, false));
            break;
          }
          const scratch = join(opts.runDir, `bind-${i}`);
          if ((await stat(m.source)).isDirectory()) {
            // Writes land in a throwaway upper dir: visible during the step, gone after it.
            const merged = join(scratch, 'merged');
            await Promise.all(['upper', 'work', 'merged'].map((d) => mkdir(join(scratch, d), { recursive: true })));
            await mount({ type: 'overlay', source: 'overlay', options: ['index=off', `lowerdir=${m.source}`, `upperdir=${join(scratch, 'upper')}`, `workdir=${join(scratch, 'work')}`] }, merged);
            undo.push(() => unmount(merged, { writable: true }));
            out.push(bind(m.target, merged, false));
          } else {
            await mkdir(scratch, { recursive: true });
            const copy = join(scratch, 'file');
            await copyFile(m.source, copy);
            out.push(bind(m.target, copy, false));
          }
          break;
        }
        case 'cache': {
          if (!opts.cacheMounts) throw new InvalidArgumentError('cache mount requested but the executor has no cache mount directory', { code: 'RUNTIME_NO_CACHE_MOUNTS' });
          const lease = await opts.cacheMounts.acquire(m, opts.signal ? { signal: opts.signal } : {});
          undo.push(() => lease.release());
          out.push(bind(m.target, lease.path, m.readonly === true));
          break;
        }
        case 'tmpfs':
          out.push({ destination: m.target, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', ...(m.size ? [`size=${m.size}`] : [])] });
          break;
        case 'secret': {
          secrets.push({ data: m.data, name: `secret-${i}`, mode: m.mode ?? 0o400, uid: m.uid ?? 0, gid: m.gid ?? 0 });
          out.push({ destination: m.target ?? `/run/secrets/${m.id}`, type: 'bind', source: join(opts.runDir, 'secrets', `secret-${i}`), options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] });
          break;
        }
        case 'ssh': {
          const target = m.target ?? `/run/buildkit/ssh_agent.${sshCount}`;
          if (sshCount++ === 0) env.push(`SSH_AUTH_SOCK=${target}`);
          out.push(bind(target, m.socket, false));
          break;
        }
        default:
          throw new InvalidArgumentError(`unknown mount type ${(m as { type: string }).type}`, { code: 'RUNTIME_BAD_MOUNT' });
      }
    }
    if (secrets.length > 0) launcher = await prepareSecrets(join(opts.runDir, 'secrets'), secrets, undo);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { mounts: out, env, cleanup, ...(launcher ? { launcher } : {}) };
}

/**
 * The secrets' tmpfs on `dir`. In the CLI's private namespace (namespace.ts)
 * it is mounted right here: only this process and its children see it, and it
 * dies with them — a mount(2) and a write, microseconds. Anywhere else (the
 * programmatic API, in the user's process and namespace) the runtime's
 * launcher makes it in a namespace of its own (`secretLauncher`, ~10-15 ms of
 * execs per step with secrets).
 */
async function prepareSecrets(dir: string, secrets: readonly SecretFile[], undo: (() => Promise<unknown>)[]): Promise<Launcher | undefined> {
  await mkdir(dir, { mode: 0o700 });
  undo.push(async () => rmdirSync(dir));
  if (inPrivateNamespace()) {
    await mount({ type: 'tmpfs', source: 'tmpfs', options: ['mode=0700', 'size=16m', 'nosuid', 'nodev', 'noexec'] }, dir);
    undo.push(() => unmount(dir));
    for (const s of secrets) {
      const file = join(dir, s.name);
      writeFileSync(file, s.data, { mode: 0o400 });
      chownSync(file, s.uid, s.gid);
      chmodSync(file, s.mode); // exactly, whatever the umask
    }
    return undefined;
  }
  const fds: number[] = [];
  undo.push(async () => fds.forEach((fd) => closeSync(fd)));
  for (const s of secrets) fds.push(sys().memfdSecret(`tsbuild-${s.name}`, s.data));
  return secretLauncher(dir, secrets.map((s, i) => ({ ...s, fd: fds[i]! })));
}

interface SecretFile {
  data: Uint8Array;
  name: string;
  mode: number;
  uid: number;
  gid: number;
}

/** What starts the runtime in place of a plain spawn: argv to put before it, and fds to hand to it as fds 3, 4, …. */
export interface Launcher {
  prefix: string[];
  fds: number[];
}

/**
 * The runtime's launcher for a run with secrets (see the header): a private
 * mount namespace, a tmpfs on `dir` inside it, each secret copied in from its
 * memfd (inherited as fd 3+i) with its mode and owner, then `exec` of the
 * runtime argv that follows. 16 MiB for all of a step's secrets, as in the
 * in-process path (BuildKit's tmpfs has no size option): more fails the copy,
 * never truncates.
 * A failed copy ends the launcher before the runtime starts, with its exit
 * status as the step's.
 */
function secretLauncher(dir: string, secrets: readonly (SecretFile & { fd: number })[]): Launcher {
  const script = [
    'set -e',
    'dir=$1; n=$2; shift 2',
    'mount -t tmpfs -o mode=0700,size=16m,nosuid,nodev,noexec tmpfs "$dir"',
    'i=3',
    'while [ "$n" -gt 0 ]; do install -m "$2" -o "$3" -g "$4" "/proc/self/fd/$i" "$dir/$1"; shift 4; i=$((i+1)); n=$((n-1)); done',
    'exec "$@"',
  ].join('\n');
  const args = secrets.flatMap((s) => [s.name, s.mode.toString(8), String(s.uid), String(s.gid)]);
  return { prefix: ['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script, 'tsbuild-secrets', dir, String(secrets.length), ...args], fds: secrets.map((s) => s.fd) };
}

function bind(destination: string, source: string, readonly: boolean): SpecMount {
  return { destination, type: 'bind', source, options: ['rbind', readonly ? 'ro' : 'rw'] };
}
