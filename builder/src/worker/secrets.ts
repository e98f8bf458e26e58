/**
 * Secrets for RUN --mount=type=secret: their bytes come from the build's
 * SecretSpecs (a file or an environment variable) only when a step runs, and
 * go straight to the executor (a file outside the rootfs). They never enter
 * a layer, the history, a cache key or a log: a key holds the secret's id
 * and target, or — with `cacheMode: 'content'` — a digest of the value salted
 * with a random per-store salt (so a key cannot be used to test guesses of
 * the value from another machine's cache).
 */
import { randomBytes, createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InvalidArgumentError, isInvalidArgument, NotFoundError, readUserFile } from '@tsbuild/core';

export interface SecretSource {
  id: string;
  src?: string | undefined;
  env?: string | undefined;
  cacheMode?: 'content' | undefined;
}

export class SecretProvider {
  private salt: Promise<Buffer> | undefined;

  constructor(
    private readonly specs: readonly SecretSource[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly saltPath: string,
  ) {}

  spec(id: string): SecretSource | undefined {
    return this.specs.find((s) => s.id === id);
  }

  /** The secret's bytes; undefined when the build has no such secret. A named file or variable that is missing is an error. */
  async read(id: string): Promise<Uint8Array | undefined> {
    const spec = this.spec(id);
    if (!spec) return undefined;
    if (spec.env !== undefined || spec.src === undefined) {
      const name = spec.env ?? id;
      const value = this.env[name];
      if (value === undefined) {
        if (spec.env === undefined) return undefined;
        throw new NotFoundError(`secret ${id}: environment variable ${name} is not set`, { code: 'BUILD_SECRET_NOT_FOUND' });
      }
      return Buffer.from(value);
    }
    return readUserFile(spec.src, `secret ${id}`).catch((err: NodeJS.ErrnoException) => {
      if (isInvalidArgument(err)) throw err; // a FIFO or device: UserPathError names it
      throw new InvalidArgumentError(`secret ${id}: cannot read ${spec.src}: ${err.code ?? err.message}`, { code: 'BUILD_SECRET_NOT_FOUND' });
    });
  }

  /** For `cacheMode: 'content'` secrets: a salted digest of the value; otherwise undefined. */
  async contentKey(id: string): Promise<string | undefined> {
    if (this.spec(id)?.cacheMode !== 'content') return undefined;
    const value = await this.read(id);
    if (value === undefined) return undefined;
    const salt = await (this.salt ??= loadSalt(this.saltPath));
    return `sha256:${createHash('sha256').update(salt).update(value).digest('hex')}`;
  }
}

/** The store's secret salt: 32 random bytes created once (mode 0600, never overwritten). */
async function loadSalt(path: string): Promise<Buffer> {
  try {
    const existing = await readFile(path);
    if (existing.length >= 16) return existing;
  } catch {
    // created below
  }
  await mkdir(dirname(path), { recursive: true });
  try {
    await writeFile(path, randomBytes(32), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFile(path);
}
