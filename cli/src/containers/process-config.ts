/**
 * docker run's rules for what process a container starts, as one pure
 * function: the image config's Entrypoint/Cmd/Env/WorkingDir/User, overridden
 * by the command line, → the runtime's ProcessRequest. No I/O: env files are
 * read by the caller and passed in as text.
 */
import { InvalidArgumentError, type ContainerConfig } from '@tsbuild/core';
import type { ProcessRequest } from '@tsbuild/runtime';

export interface RunOverrides {
  /** `--entrypoint`: undefined = keep the image's; '' = clear it (docker's `--entrypoint ''`). */
  entrypoint?: string;
  /** Positional args after IMAGE: they replace Cmd. */
  args: string[];
  /** `--env-file` contents, in flag order (applied before `-e`). */
  envFiles: string[];
  /** `-e` values, in flag order: `K=V`, or `K` to take K from `callerEnv` (dropped when unset, like docker). */
  env: string[];
  /** `-w`: absolute path. */
  workdir?: string;
  /** `-u`: name, uid, name:group, uid:gid. */
  user?: string;
  /** The container's hostname, exported as HOSTNAME like docker does. */
  hostname: string;
}

/**
 * Entrypoint + Cmd with docker's override rules:
 * - `--entrypoint E` replaces the image's Entrypoint and also resets its Cmd,
 *   unless args are given (then they are the Cmd);
 * - `--entrypoint ''` clears the Entrypoint (the args, or nothing, remain);
 * - args replace Cmd, never the Entrypoint.
 * An empty result is InvalidArgument (docker: "no command specified").
 */
export function commandLine(config: ContainerConfig, entrypoint: string | undefined, args: string[]): string[] {
  const ep = entrypoint === undefined ? (config.Entrypoint ?? []) : entrypoint === '' ? [] : [entrypoint];
  const cmd = args.length > 0 ? args : entrypoint !== undefined ? [] : (config.Cmd ?? []);
  const argv = [...ep, ...cmd];
  if (argv.length === 0) throw new InvalidArgumentError('no command specified: the image has no Entrypoint or Cmd and none was given', { code: 'RUN_NO_COMMAND' });
  return argv;
}

/**
 * `--env-file` syntax (docker's): one `K=V` or `K` per line, `#` comments and
 * blank lines skipped, no quoting and no expansion — the value is the rest of
 * the line verbatim. Leading whitespace of a line is dropped.
 */
export function parseEnvFile(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const key = line.split('=', 1)[0]!;
    if (key === '' || /\s/.test(key)) throw new InvalidArgumentError(`invalid variable name ${JSON.stringify(key)} in env file`, { code: 'RUN_BAD_ENV' });
    out.push(line);
  }
  return out;
}

/** Image Env, then env files, then `-e`: a later entry of the same key wins, in the earlier one's position. */
export function mergeEnv(image: readonly string[], overrides: readonly string[], callerEnv: NodeJS.ProcessEnv): string[] {
  const byKey = new Map<string, string>();
  for (const entry of image) byKey.set(entry.split('=', 1)[0]!, entry);
  for (const entry of overrides) {
    if (entry === '' || entry.startsWith('=')) throw new InvalidArgumentError(`invalid environment variable ${JSON.stringify(entry)}`, { code: 'RUN_BAD_ENV' });
    if (entry.includes('=')) byKey.set(entry.split('=', 1)[0]!, entry);
    else if (callerEnv[entry] !== undefined) byKey.set(entry, `${entry}=${callerEnv[entry]}`);
  }
  return [...byKey.values()];
}

/** The whole process: command line, env (with HOSTNAME unless set), working directory and user. */
export function processRequest(config: ContainerConfig, o: RunOverrides, callerEnv: NodeJS.ProcessEnv): ProcessRequest {
  if (o.workdir !== undefined && !o.workdir.startsWith('/')) {
    throw new InvalidArgumentError(`the working directory ${JSON.stringify(o.workdir)} is invalid, it needs to be an absolute path`, { code: 'RUN_BAD_WORKDIR' });
  }
  const overrides = [...o.envFiles.flatMap(parseEnvFile), ...o.env];
  const env = mergeEnv([`HOSTNAME=${o.hostname}`, ...(config.Env ?? [])], overrides, callerEnv);
  const user = o.user ?? config.User;
  return {
    args: commandLine(config, o.entrypoint, o.args),
    env,
    cwd: o.workdir ?? (config.WorkingDir || '/'),
    ...(user ? { user } : {}),
  };
}
