/**
 * `-v HOST:CONTAINER[:ro|rw]` → a runtime bind mount. Only host paths are
 * supported (there are no named volumes); unlike docker, a missing host path
 * is an error rather than silently created as an empty root-owned directory.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { InvalidArgumentError, NotFoundError } from '@tsbuild/core';
import type { BindExecMount } from '@tsbuild/runtime';

/** Pure: the spec's parts. A relative host path is resolved against `cwd`. */
export function parseVolume(spec: string, cwd: string): BindExecMount {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new InvalidArgumentError(`invalid volume ${JSON.stringify(spec)}: expected HOST:CONTAINER[:ro|rw]`, { code: 'RUN_BAD_VOLUME' });
  }
  const [host, target, mode = 'rw'] = parts as [string, string, string?];
  if (!isAbsolute(host) && !host.startsWith('.')) {
    throw new InvalidArgumentError(`invalid volume ${JSON.stringify(spec)}: named volumes are not supported, give a host path`, { code: 'RUN_BAD_VOLUME' });
  }
  if (!target.startsWith('/')) throw new InvalidArgumentError(`invalid volume ${JSON.stringify(spec)}: the container path must be absolute`, { code: 'RUN_BAD_VOLUME' });
  const options = mode.split(',');
  if (!options.every((o) => o === 'ro' || o === 'rw')) throw new InvalidArgumentError(`invalid volume mode ${JSON.stringify(mode)} (ro or rw)`, { code: 'RUN_BAD_VOLUME' });
  const readonly = options.includes('ro');
  return { type: 'bind', source: resolve(cwd, host), target, readonly, ...(readonly ? {} : { writeThrough: true }) };
}

/** Parses every spec and checks each host path exists (NotFound otherwise). */
export async function resolveVolumes(specs: string[], cwd: string): Promise<BindExecMount[]> {
  const mounts = specs.map((s) => parseVolume(s, cwd));
  for (const m of mounts) {
    await stat(m.source).catch(() => {
      throw new NotFoundError(`volume host path ${m.source} does not exist`, { code: 'RUN_VOLUME_NOT_FOUND' });
    });
  }
  return mounts;
}
