import { parsePlatform, readUserFile, type Platform } from '@tsbuild/core';
import type { Readable } from 'node:stream';
import { list, flag, str, type Command } from '../command.js';
import { EXIT_ENGINE_ERROR, signalExitCode } from '../containers/exit-codes.js';
import { runContainer } from '../containers/run-container.js';
import { resolveVolumes } from '../containers/volumes.js';
import { formatError } from '../format-error.js';
import { storeFor } from '../store-access.js';
import { UsageError } from '../usage-error.js';

/**
 * `tsbuild run IMAGE [ARG…]`: docker run, in the foreground. Exit codes are
 * docker's: the container's own, 125 when tsbuild failed before or around
 * it, 126/127 when its command cannot be invoked / is not found, 130/143
 * when interrupted by SIGINT/SIGTERM (the container is killed first).
 */
export const runCommand: Command = {
  name: 'run',
  summary: 'Run a command in a new container from an image',
  usage: '[OPTIONS] IMAGE [COMMAND] [ARG...]',
  stopAtFirstPositional: true,
  help: [
    ['--rm', 'remove the container (writable layer and record) when it exits'],
    ['-i, --interactive', 'attach stdin (default: /dev/null)'],
    ['-t, --tty', 'refused: tsbuild has no TTY support'],
    ['-e, --env K=V|K', 'set an environment variable; K alone copies it from this environment (repeatable)'],
    ['--env-file FILE', 'read K=V lines from FILE (repeatable)'],
    ['-w, --workdir DIR', 'working directory in the container (absolute)'],
    ['-u, --user USER', 'name, uid, name:group or uid:gid'],
    ['--network host|none', "host (default: there is no bridge network, unlike docker's default) or none (loopback only)"],
    ['-v, --volume HOST:CTR[:ro]', 'bind-mount an existing host path (repeatable)'],
    ['--entrypoint CMD', "override the image's entrypoint ('' clears it; also resets its CMD)"],
    ['--name NAME', 'name the container (default: generated)'],
    ['--hostname NAME', "the container's hostname (default: the short container id)"],
    ['--runtime crun|runc|PATH', 'the OCI runtime (default: crun, else runc)'],
    ['--platform OS/ARCH', "the image of a multi-platform image to run (default: the host's); a foreign one runs under QEMU"],
  ],
  options: {
    rm: { type: 'boolean' },
    interactive: { type: 'boolean', short: 'i' },
    tty: { type: 'boolean', short: 't' },
    env: { type: 'string', short: 'e', multiple: true },
    'env-file': { type: 'string', multiple: true },
    workdir: { type: 'string', short: 'w' },
    user: { type: 'string', short: 'u' },
    network: { type: 'string' },
    volume: { type: 'string', short: 'v', multiple: true },
    entrypoint: { type: 'string' },
    name: { type: 'string' },
    hostname: { type: 'string' },
    runtime: { type: 'string' },
    platform: { type: 'string' },
  },
  async run(ctx, args) {
    const [image, ...cmd] = args.positionals;
    if (!image) throw new UsageError('an image is required');
    if (flag(args, 'tty')) throw new UsageError('-t/--tty is not supported: tsbuild has no TTY support (use -i to attach stdin)');
    const network = str(args, 'network') ?? 'host';
    if (network !== 'host' && network !== 'none') throw new UsageError(`unsupported network ${network} (host or none)`);
    const stdin = flag(args, 'interactive') ? ctx.stdin : undefined;
    const platform = platformFlag(str(args, 'platform'));
    try {
      const envFiles = await Promise.all(list(args, 'env-file').map(async (f) => (await readUserFile(f, 'the env file')).toString('utf8')));
      const mounts = await resolveVolumes(list(args, 'volume'), process.cwd());
      const store = await storeFor(ctx);
      const entrypoint = str(args, 'entrypoint');
      const workdir = str(args, 'workdir');
      const user = str(args, 'user');
      const hostname = str(args, 'hostname');
      const name = str(args, 'name');
      const runtime = str(args, 'runtime');
      const { exitCode } = await runContainer({
        store,
        image,
        ...(platform ? { platform } : {}),
        overrides: {
          args: cmd, envFiles, env: list(args, 'env'),
          ...(entrypoint !== undefined ? { entrypoint } : {}),
          ...(workdir !== undefined ? { workdir } : {}),
          ...(user !== undefined ? { user } : {}),
          ...(hostname !== undefined ? { hostname } : {}),
        },
        mounts,
        network,
        remove: flag(args, 'rm'),
        ...(name !== undefined ? { name } : {}),
        ...(runtime !== undefined ? { runtime } : {}),
        callerEnv: ctx.env,
        ...(stdin ? { stdin } : {}),
        stdout: ctx.stdout,
        stderr: ctx.stderr,
        signal: ctx.signal,
      });
      return exitCode;
    } catch (err) {
      ctx.stderr.write(formatError(err, { debug: ctx.debug }));
      // Interrupted before the container ran (e.g. while unpacking): still 130/143.
      return ctx.signal.aborted ? signalExitCode(ctx.signal.reason) : EXIT_ENGINE_ERROR;
    } finally {
      // Stop reading our stdin once the container is gone, so the process can exit.
      if (stdin) {
        (stdin as Readable).unpipe?.();
        (stdin as Readable).pause?.();
      }
    }
  },
};

function platformFlag(value: string | undefined): Platform | undefined {
  if (value === undefined) return undefined;
  try {
    return parsePlatform(value);
  } catch (err) {
    throw new UsageError(`--platform: ${(err as Error).message}`);
  }
}
