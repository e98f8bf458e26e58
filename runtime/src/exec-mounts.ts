/**
 * The mechanics of RUN --mount: each ExecMount becomes a runtime-spec mount,
 * plus whatever host-side state it needs (an overlay for a writable bind, a
 * cache lease, a private tmpfs holding secrets). Everything host-side lives in
 * the per-run directory, outside the rootfs, and is undone by `cleanup`.
 */
import { chown, copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '@tsbuild/core';
import type { CacheMountManager } from './cache-mounts.js';
import { mount, unmount } from './mounter.js';
import type { SpecMount } from './spec-defaults.js';
import type { ExecMount } from './types.js';

export interface PreparedMounts {
  mounts: SpecMount[];
  env: string[];
  /** Undoes all host-side state; safe to call once, never throws for already-gone state. */
  cleanup(): Promise<void>;
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
  let secretsDir: string | undefined;
  let sshCount = 0;
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
          if (!secretsDir) {
            // A private tmpfs so secret bytes never touch a disk.
            secretsDir = join(opts.runDir, 'secrets');
            await mkdir(secretsDir, { mode: 0o700 });
            await mount({ type: 'tmpfs', source: 'tmpfs', options: ['mode=0700', 'size=16m', 'nosuid', 'nodev', 'noexec'] }, secretsDir);
            const dir = secretsDir;
            undo.push(() => unmount(dir));
          }
          const file = join(secretsDir, `secret-${i}`);
          await writeFile(file, m.data, { mode: m.mode ?? 0o400 });
          await chown(file, m.uid ?? 0, m.gid ?? 0);
          out.push({ destination: m.target ?? `/run/secrets/${m.id}`, type: 'bind', source: file, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] });
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
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { mounts: out, env, cleanup };
}

function bind(destination: string, source: string, readonly: boolean): SpecMount {
  return { destination, type: 'bind', source, options: ['rbind', readonly ? 'ro' : 'rw'] };
}
