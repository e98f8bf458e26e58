/**
 * Locating the OCI runtime binary: an explicit path, a name looked up on
 * PATH, or by default crun then runc.
 */
import { access, constants, readFile } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { FailedPreconditionError } from '@tsbuild/core';

export type RuntimeName = 'crun' | 'runc';

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(() => true, () => false);
}

/** The first executable `name` on `searchPath` (default `$PATH`), or undefined. */
export async function which(name: string, searchPath = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of searchPath.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Resolves `runtime` ('crun', 'runc', a path, or undefined for crun-then-runc)
 * to an absolute path. Missing → FailedPreconditionError RUNTIME_NOT_FOUND.
 */
export async function findRuntime(runtime?: string, searchPath?: string): Promise<string> {
  if (runtime && (isAbsolute(runtime) || runtime.includes('/'))) {
    if (await isExecutable(runtime)) return runtime;
    throw notFound(runtime);
  }
  for (const name of runtime ? [runtime] : ['crun', 'runc']) {
    const found = await which(name, searchPath);
    if (found) return found;
  }
  throw notFound(runtime ?? 'crun or runc');
}

function notFound(what: string): FailedPreconditionError {
  return new FailedPreconditionError(
    `OCI runtime ${what} not found on PATH: install it with \`apt-get install crun\` (or runc)`,
    { code: 'RUNTIME_NOT_FOUND' },
  );
}

/** The controllers of a hybrid host's cgroup2 mount at /sys/fs/cgroup/unified ('' when there is none). */
export async function readHybridCgroupControllers(): Promise<string> {
  return readFile('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').catch(() => '');
}
