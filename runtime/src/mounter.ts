/**
 * Host-side mounts through mount(8)/umount(8). The argv is a pure function of
 * the plain `Mount` data, so what we ask the kernel for is testable without root.
 */
import type { Mount } from './types.js';
import { mustRun, runCommand } from './command.js';

/** mount(8) arguments that mount `m` at `target`. Binds go without `-t` (the type is in the options). */
export function mountArgv(m: Mount, target: string): string[] {
  const isBind = m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind');
  if (isBind) {
    const opts = m.options.includes('bind') || m.options.includes('rbind') ? m.options : ['bind', ...m.options];
    return ['-o', opts.join(','), m.source, target];
  }
  return ['-t', m.type, ...(m.options.length > 0 ? ['-o', m.options.join(',')] : []), m.source, target];
}

export async function mount(m: Mount, target: string): Promise<void> {
  await mustRun('mount', mountArgv(m, target));
  // mount(8) applies `ro` to a bind by a remount since util-linux 2.27; older ones ignore it silently.
}

/**
 * umount(8) argv, optionally preceded by mtime restores (`[seconds.nanos, path]`
 * pairs, see stubs.ts) in the same spawn: a shell that touches, then execs umount.
 */
export function unmountInvocation(target: string, restoreTimes: string[] = []): { file: string; args: string[] } {
  if (restoreTimes.length === 0) return { file: 'umount', args: [target] };
  const script = 't=$1; shift; while [ $# -gt 1 ]; do touch -c -h -m -d "@$1" "$2"; shift 2; done; exec umount "$t"';
  return { file: '/bin/sh', args: ['-c', script, 'sh', target, ...restoreTimes] };
}

/**
 * Unmounts `target`. A busy mount is retried briefly, then detached lazily so
 * that cleanup always completes (the caller removes the directory next).
 */
export async function unmount(target: string, restoreTimes: string[] = []): Promise<void> {
  const first = unmountInvocation(target, restoreTimes);
  const r = await runCommand(first.file, first.args);
  if (r.code === 0) return;
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await runCommand('umount', [target]);
    if (r.code === 0 || /not mounted|no mount point|not found/i.test(r.stderr)) return;
    await new Promise((res) => setTimeout(res, 20 * (attempt + 1)));
  }
  await mustRun('umount', ['-l', target]);
}

/** Mounts the layers of a rootfs in order at `target`; returns an undo that unmounts them in reverse (restoring times first). */
export async function mountAll(mounts: Mount[], target: string): Promise<(restoreTimes?: string[]) => Promise<void>> {
  let done = 0;
  const undo = async (restoreTimes: string[] = []) => {
    for (; done > 0; done--) await unmount(target, restoreTimes.splice(0));
  };
  try {
    for (const m of mounts) {
      await mount(m, target);
      done++;
    }
  } catch (err) {
    await undo();
    throw err;
  }
  return undo;
}
