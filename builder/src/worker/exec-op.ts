/**
 * Exec (RUN): prepare a snapshot on the parent, run the process in it with
 * the step's mounts, diff and commit. A non-zero exit is an ExecError wrapped
 * in a DockerfileError naming the RUN's range; the temp snapshot is removed on
 * any failure or abort (the executor has already unmounted and killed).
 */
import { Writable } from 'node:stream';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerfileError, ExecError, FailedPreconditionError, isInvalidArgument, parsePlatform, TsbuildError, type SourceRange } from '@tsbuild/core';
import { platformNotRunnable, platformSupport, type ExecMount } from '@tsbuild/runtime';
import type { ExecSpec } from '../definition/ops.js';
import type { CacheMap, CacheMapContext, ExecContext, Op } from '../solver/index.js';
import { commitDiff } from './commit-diff.js';
import { withResultTree } from './mount-tree.js';
import type { SecretProvider } from './secrets.js';
import { EMPTY_RESULT, type LayerResult } from './types.js';
import type { Worker } from './worker.js';

/** The mounts of one run, and secret variables (never part of the spec, hence never of a key). */
interface Resolved {
  mounts: ExecMount[];
  env: string[];
}

export interface ExecEnv {
  contextDir: string;
  secrets: SecretProvider;
  ssh: (id: string) => string | undefined;
  /** Proxy build args (HTTP_PROXY…): in the environment, never in the key (BuildKit's rule). */
  proxyEnv: string[];
  /** Content checksums (path → checksum) of what a context bind mount exposes: they enter the key like COPY's. */
  contextChecksum: (source: string, signal: AbortSignal) => Promise<Record<string, string>>;
  file: string;
  range: SourceRange;
}

export class ExecOp implements Op<LayerResult> {
  constructor(
    private readonly w: Worker,
    readonly spec: ExecSpec,
    private readonly env: ExecEnv,
  ) {}

  async cacheMap(ctx: CacheMapContext): Promise<CacheMap> {
    const secrets: Record<string, string> = {};
    const content: Record<string, string> = {};
    for (const m of this.spec.mounts) {
      if (m.type === 'bind' && 'context' in m.from) Object.assign(content, await this.env.contextChecksum(m.source, ctx.signal));
      if (m.type !== 'secret') continue;
      const key = await this.env.secrets.contentKey(m.id);
      if (key !== undefined) secrets[m.id] = key;
    }
    const { hasParent: _, ...definition } = this.spec;
    return { definition: { op: 'exec', ...definition, ...(Object.keys(secrets).length ? { secretContent: secrets } : {}) }, content };
  }

  async exec(inputs: LayerResult[], ctx: ExecContext): Promise<LayerResult> {
    await this.checkPlatform();
    const parent = this.spec.hasParent ? inputs[0]! : EMPTY_RESULT;
    const snap = this.w.snapshotter;
    this.w.warmCompression();
    const tmpKey = this.w.tempKey('exec');
    const rootfs = await snap.prepare(tmpKey, parent.snapshot);
    try {
      await this.withMounts(inputs, 0, { mounts: [], env: [] }, async ({ mounts, env: secretEnv }) => {
        const out = logStream(ctx, 'stdout');
        const err = logStream(ctx, 'stderr');
        const request = {
          rootfs,
          process: { args: this.spec.args, env: [...processEnv(this.spec), ...this.env.proxyEnv, ...secretEnv], cwd: this.spec.cwd, ...(this.spec.user ? { user: this.spec.user } : {}) },
          mounts,
          network: this.spec.network,
          ...(this.spec.extraHosts ? { extraHosts: this.spec.extraHosts } : {}),
          ...(this.spec.ulimits ? { ulimits: this.spec.ulimits } : {}),
          ...(this.spec.cgroupParent ? { cgroupParent: this.spec.cgroupParent } : {}),
          security: this.spec.security,
        };
        // An invalid step (USER naming no passwd entry, a bad mount) is the Dockerfile's error: located at the RUN.
        const { exitCode } = await this.w.executor.run(request, { signal: ctx.signal, stdout: out, stderr: err }).catch((e: unknown) => {
          if (!(e instanceof TsbuildError) || !isInvalidArgument(e) || e instanceof DockerfileError) throw e;
          throw new DockerfileError(e.message, this.env.file, this.env.range, { code: e.code, cause: e });
        });
        if (exitCode !== 0) {
          const cause = new ExecError(exitCode, this.spec.args);
          throw new DockerfileError(cause.message, this.env.file, this.env.range, { code: 'BUILD_RUN_FAILED', cause });
        }
      });
    } catch (err) {
      await snap.remove(tmpKey).catch(() => undefined);
      throw err;
    }
    return commitDiff(this.w, tmpKey, parent, ctx);
  }

  /** A RUN for a platform this host cannot run fails here, saying how to enable it, rather than with the runtime's exec format error. */
  private async checkPlatform(): Promise<void> {
    const platform = parsePlatform(this.spec.platform);
    const support = await platformSupport(platform);
    if (support.runnable) return;
    const cause = platformNotRunnable(platform, support);
    throw new DockerfileError(cause.message, this.env.file, this.env.range, { code: cause.code, cause });
  }

  /** Resolves mount specs one by one (bind sources from other results stay mounted for the whole run). */
  private async withMounts(inputs: LayerResult[], i: number, done: Resolved, fn: (r: Resolved) => Promise<void>): Promise<void> {
    const m = this.spec.mounts[i];
    if (!m) return fn(done);
    const next = (mount?: ExecMount, env: string[] = []): Promise<void> =>
      this.withMounts(inputs, i + 1, { mounts: mount ? [...done.mounts, mount] : done.mounts, env: [...done.env, ...env] }, fn);
    switch (m.type) {
      case 'bind': {
        if ('context' in m.from) return next({ type: 'bind', target: m.target, source: join(this.env.contextDir, m.source), readonly: m.readonly });
        return withResultTree(this.w, inputs[m.from.input]!, (dir) => next({ type: 'bind', target: m.target, source: join(dir, m.source), readonly: m.readonly }));
      }
      case 'cache': {
        const { type, target, id, sharing, readonly, uid, gid, mode } = m;
        await this.w.hold({ cacheMounts: [id] }); // no cache GC removes it while this RUN uses it
        return next({ type, target, id, readonly, ...defined({ sharing, uid, gid, mode }) });
      }
      case 'tmpfs':
        return next({ type: 'tmpfs', target: m.target, ...defined({ size: m.size }) });
      case 'inline':
        return withInlineFile(m.data, m.mode, (source) => next({ type: 'bind', target: m.target, source, readonly: true }));
      case 'secret': {
        const data = await this.env.secrets.read(m.id);
        if (data === undefined) {
          if (m.required) throw this.error(`secret ${m.id}: not found`, 'BUILD_SECRET_NOT_FOUND');
          // Optional and absent: no file; an `env=` variable is still set, empty (BuildKit's
          // ExecOp.loadSecretEnv, solver/llbsolver/ops/exec.go, appends `NAME=` for it).
          return next(undefined, m.env ? [`${m.env}=`] : []);
        }
        // BuildKit: `env=` alone exposes the secret as a variable only; with a target, as both.
        const env = m.env ? [`${m.env}=${Buffer.from(data).toString('utf8')}`] : [];
        if (m.env && !m.target) return next(undefined, env);
        return next({ type: 'secret', id: m.id, data, ...defined({ target: m.target, uid: m.uid, gid: m.gid, mode: m.mode }) }, env);
      }
      case 'ssh': {
        const socket = this.env.ssh(m.id);
        if (socket === undefined) {
          if (m.required) throw this.error(`no SSH key ${JSON.stringify(m.id)} forwarded from the client`, 'BUILD_SSH_NOT_FOUND');
          return next();
        }
        return next({ type: 'ssh', socket, ...defined({ target: m.target }) });
      }
    }
  }

  private error(message: string, code: string): DockerfileError {
    return new DockerfileError(message, this.env.file, this.env.range, { code, cause: new FailedPreconditionError(message, { code }) });
  }
}

/** ENV, then each build arg ENV does not set. */
export function processEnv(spec: Pick<ExecSpec, 'env' | 'buildArgs'>): string[] {
  const names = new Set(spec.env.map((e) => e.slice(0, e.indexOf('='))));
  return [...spec.env, ...Object.entries(spec.buildArgs).filter(([k]) => !names.has(k)).map(([k, v]) => `${k}=${v}`)];
}

async function withInlineFile(data: string, mode: number, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-inline-'));
  try {
    const path = join(dir, 'file');
    await writeFile(path, data, { mode });
    await chmod(path, mode);
    await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function logStream(ctx: ExecContext, stream: 'stdout' | 'stderr'): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      ctx.log(stream, chunk);
      cb();
    },
  });
}

/** The object without its undefined fields (exactOptionalPropertyTypes). */
export function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
