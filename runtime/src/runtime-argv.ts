/**
 * The crun/runc command lines, built by pure functions. Both runtimes accept
 * the same global `--root` and the same `run`/`kill`/`delete` subcommands.
 */

export interface RuntimeCommand {
  /** Absolute path of the runtime binary. */
  path: string;
  /** Directory the runtime keeps container state in (`--root`). */
  stateDir: string;
  /** A host-compatibility shim the runtime is started through (see `hybridCgroupShim`). */
  shim?: string[];
}

/** What to spawn: the file and its argv. */
export interface Invocation {
  file: string;
  args: string[];
}

function invoke(rt: RuntimeCommand, sub: string[]): Invocation {
  const argv = [rt.path, '--root', rt.stateDir, ...sub];
  const full = [...(rt.shim ?? []), ...argv];
  return { file: full[0]!, args: full.slice(1) };
}

/** Foreground run, no tty: the container's stdio are the runtime's stdio. */
export function runInvocation(rt: RuntimeCommand, bundle: string, id: string): Invocation {
  return invoke(rt, ['run', '--bundle', bundle, id]);
}

/** SIGKILL to the container's init; with a pid namespace the kernel then kills every process in it. */
export function killInvocation(rt: RuntimeCommand, id: string): Invocation {
  return invoke(rt, ['kill', id, 'KILL']);
}

export function deleteInvocation(rt: RuntimeCommand, id: string): Invocation {
  return invoke(rt, ['delete', '--force', id]);
}

/**
 * crun refuses "hybrid" cgroup hosts (v1 controllers plus a cgroup2 mount at
 * /sys/fs/cgroup/unified that holds controllers). Rather than change the host,
 * crun is started in a private mount namespace without that cgroup2 mount, so
 * it sees (and uses) plain cgroup v1. `exec` keeps the runtime our direct
 * child, so its exit status and stdio are unchanged. Empty when not needed.
 */
export function hybridCgroupShim(runtimePath: string, unifiedControllers: string): string[] {
  const isCrun = (runtimePath.split('/').pop() ?? '').startsWith('crun');
  if (!isCrun || unifiedControllers.trim() === '') return [];
  return ['unshare', '--mount', '--propagation', 'private', '/bin/sh', '-c', 'umount /sys/fs/cgroup/unified && exec "$0" "$@"'];
}
