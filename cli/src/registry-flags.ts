/**
 * The flags every registry-speaking command shares (pull, push, login):
 * `--insecure-registry HOST` (plain HTTP allowed; loopback always is) and
 * `--registry-ca FILE` (a PEM CA trusted for every registry, besides the
 * system's and `/etc/docker/certs.d/<host>/`) and `--registry-timeout SECONDS`
 * (a request that gets no response, or whose body stalls, this long is retried). Credentials are docker's,
 * read from the command's environment. `build` has them too (for its base
 * images and --push), so the registry client is imported only when options
 * are made: a build that pulls nothing does not load it.
 */
import { readFile } from 'node:fs/promises';
import type { RegistryClientOptions } from '@tsbuild/registry-client';
import { list, str, type Command, type OptionSpec, type ParsedArgs } from './command.js';
import { UsageError } from './usage-error.js';

export const REGISTRY_OPTIONS: OptionSpec = {
  'insecure-registry': { type: 'string', multiple: true },
  'registry-ca': { type: 'string', multiple: true },
  'registry-timeout': { type: 'string' },
};

export const REGISTRY_HELP: NonNullable<Command['help']> = [
  ['--insecure-registry HOST', 'allow plain HTTP to HOST[:PORT] (loopback is always allowed); repeatable'],
  ['--registry-ca FILE', 'trust this PEM CA for registries too (besides /etc/docker/certs.d/<host>/); repeatable'],
  ['--registry-timeout SECONDS', 'a registry request with no response, or a stalled body, this long is retried (default 60)'],
];

export async function registryClientOptions(args: ParsedArgs, env: NodeJS.ProcessEnv): Promise<RegistryClientOptions> {
  const ca: string[] = [];
  for (const file of list(args, 'registry-ca')) {
    try {
      ca.push(await readFile(file, 'utf8'));
    } catch (err) {
      throw new UsageError(`--registry-ca: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const timeout = str(args, 'registry-timeout');
  const seconds = timeout === undefined ? undefined : Number(timeout);
  if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0)) throw new UsageError(`--registry-timeout: expected a number of seconds, got ${JSON.stringify(timeout)}`);
  const { dockerConfigCredentials } = await import('@tsbuild/registry-client');
  return {
    insecure: list(args, 'insecure-registry'), ca, credentials: dockerConfigCredentials({ env }),
    ...(seconds !== undefined ? { timeoutMs: Math.round(seconds * 1000) } : {}),
  };
}
