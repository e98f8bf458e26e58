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
 * Unmounts `target`. A busy mount is retried briefly, then detached lazily so
 * that cleanup always completes (the caller removes the directory next).
 */
export async function unmount(target: string): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await runCommand('umount', [target]);
    if (r.code === 0 || /not mounted|no mount point|not found/i.test(r.stderr)) return;
    await new Promise((res) => setTimeout(res, 20 * (attempt + 1)));
  }
  await mustRun('umount', ['-l', target]);
}

/** Mounts the layers of a rootfs in order at `target`; returns an undo that unmounts them in reverse. */
export async function mountAll(mounts: Mount[], target: string): Promise<() => Promise<void>> {
  let done = 0;
  const undo = async () => {
    for (; done > 0; done--) await unmount(target);
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
