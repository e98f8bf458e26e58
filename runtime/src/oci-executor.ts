/**
 * OciExecutor: the thin, effectful part of the run engine (moby/buildkit
 * `executor/runcexecutor/executor.go`). Everything it asks the outside for is
 * built by pure functions: the spec (spec.ts), the runtime argv
 * (runtime-argv.ts), the mount(2) calls (mounter.ts).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { basename, join } from 'node:path';
import { finished } from 'node:stream/promises';
import { AlreadyExistsError, CanceledError, InvalidArgumentError, resolveInRoot, throwIfAborted } from '@tsbuild/core';
import { CacheMountManager } from './cache-mounts.js';
import { runCommand } from './command.js';
import { writeEtcFiles } from './etc-files.js';
import { prepareMounts, type Launcher } from './exec-mounts.js';
import { findRuntime, readHybridCgroupControllers } from './find-runtime.js';
import { mountAll } from './mounter.js';
import { OutputLimiter } from './output.js';
import { DEFAULT_BUNDLE_DIR, ownerDir } from './owner-dirs.js';
import { deleteInvocation, hybridCgroupShim, killInvocation, runInvocation, type RuntimeCommand } from './runtime-argv.js';
import { buildSpec, specJson } from './spec.js';
import { capabilitiesFromMask } from './spec-defaults.js';
import { recordStubs, removeStubs } from './stubs.js';
import type { ExecRequest, Executor, RunOptions, RunResult } from './types.js';
import { resolveUser } from './user.js';

export interface ExecutorOptions {
  /** 'crun', 'runc' or a path to a runtime binary; default crun, then runc, on PATH. */
  runtime?: string;
  /** The runtime's `--root`; default `/run/tsbuild/<runtime name>`. */
  stateDir?: string;
  /** Where per-run bundles are made (in a folder of this process: owner-dirs.ts); default `/run/tsbuild/bundles`. */
  bundleDir?: string;
  /** Base directory for cache mounts (the builder passes `<storeRoot>/cache-mounts`); without it cache mounts are refused. */
  cacheMountsDir?: string;
  /** A manager shared with other executors; takes precedence over `cacheMountsDir`. */
  cacheMounts?: CacheMountManager;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Finds the runtime and prepares its state and bundle directories. Missing runtime → FailedPreconditionError RUNTIME_NOT_FOUND. */
export async function createExecutor(options: ExecutorOptions = {}, { signal }: { signal?: AbortSignal } = {}): Promise<OciExecutor> {
  throwIfAborted(signal);
  const path = await findRuntime(options.runtime);
  const stateDir = options.stateDir ?? join('/run/tsbuild', basename(path));
  const bundleDir = options.bundleDir ?? DEFAULT_BUNDLE_DIR;
  await Promise.all([mkdir(stateDir, { recursive: true, mode: 0o700 }), mkdir(bundleDir, { recursive: true, mode: 0o700 })]);
  const cacheMounts = options.cacheMounts ?? (options.cacheMountsDir ? new CacheMountManager(options.cacheMountsDir) : undefined);
  const shim = hybridCgroupShim(path, await readHybridCgroupControllers());
  const status = await readFile('/proc/self/status', 'utf8');
  const bounding = capabilitiesFromMask(BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`));
  return new OciExecutor({ path, stateDir, shim }, bundleDir, cacheMounts, bounding);
}

export class OciExecutor implements Executor {
  constructor(
    readonly runtime: RuntimeCommand,
    readonly bundleDir: string,
    private readonly cacheMounts?: CacheMountManager,
    /** Capabilities this process holds; see BuildSpecOptions.hostCapabilities. */
    private readonly hostCapabilities?: readonly string[],
  ) {}

  async run(request: ExecRequest, options: RunOptions = {}): Promise<RunResult> {
    const { signal } = options;
    throwIfAborted(signal);
    const id = request.id ?? `tsb-${randomBytes(8).toString('hex')}`;
    if (!ID_PATTERN.test(id)) throw new InvalidArgumentError(`invalid container id ${JSON.stringify(id)}`, { code: 'RUNTIME_BAD_ID' });
    if (request.process.args.length === 0) throw new InvalidArgumentError('process args are empty', { code: 'RUNTIME_BAD_PROCESS' });
    const bundle = join(ownerDir(this.bundleDir), id);
    const rootfs = join(bundle, 'rootfs');
    const runDir = join(bundle, 'run');
    try {
      await mkdir(bundle, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new AlreadyExistsError(`a container ${id} is already running`, { code: 'RUNTIME_ID_IN_USE' });
      throw err;
    }
    // From here on, the bundle is ours and every step has its undo.
    const undo: (() => Promise<unknown>)[] = [() => removeBundle(bundle)];
    try {
      await Promise.all([mkdir(rootfs), mkdir(runDir, { mode: 0o700 })]);
      undo.push(await mountAll(request.rootfs, rootfs));
      const user = await resolveUser(rootfs, request.process.user);
      const cwd = request.process.cwd || '/';
      // Created as root 0755 when missing, like BuildKit; it belongs in the layer.
      if (cwd !== '/') await mkdir(await resolveInRoot(rootfs, cwd, { followFinal: true }), { recursive: true, mode: 0o755 });
      const hostname = request.hostname ?? 'buildkitsandbox';
      const etc = await writeEtcFiles(runDir, { hostname, network: request.network, ...(request.extraHosts ? { extraHosts: request.extraHosts } : {}) });
      const prepared = await prepareMounts(request.mounts, { runDir, ...(this.cacheMounts ? { cacheMounts: this.cacheMounts } : {}), ...(signal ? { signal } : {}) });
      undo.push(() => prepared.cleanup());
      const spec = buildSpec({ ...request, hostname }, user, { mounts: [...etc, ...prepared.mounts], extraEnv: prepared.env, containerId: id, ...(this.hostCapabilities ? { hostCapabilities: this.hostCapabilities } : {}) });
      writeFileSync(join(bundle, 'config.json'), specJson(spec));
      const stubs = await recordStubs(rootfs, spec.mounts.map((m) => m.destination));
      // Runs before the rootfs is unmounted (undo runs in reverse).
      undo.push(() => removeStubs(stubs));
      undo.push(() => this.deleteIfPresent(id));
      throwIfAborted(signal);
      return await this.spawnRun(bundle, id, request, options, prepared.launcher);
    } finally {
      for (const fn of undo.reverse()) await fn().catch(() => undefined);
    }
  }

  /** Runs the container in the foreground; the abort signal kills its whole pid namespace. */
  private async spawnRun(bundle: string, id: string, request: ExecRequest, { signal, stdin, stdout, stderr }: RunOptions, launcher?: Launcher): Promise<RunResult> {
    const inv = runInvocation(this.runtime, bundle, id);
    const [file, ...args] = launcher ? [...launcher.prefix, inv.file, ...inv.args] : [inv.file, ...inv.args];
    const child = spawn(file!, args, { stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(launcher?.fds ?? [])] });
    const limiter = new OutputLimiter(request.outputLimitBytes ?? Infinity);
    const out = limiter.writable(stdout);
    const err = limiter.writable(stderr);
    child.stdout!.pipe(out);
    child.stderr!.pipe(err);
    if (stdin && child.stdin) {
      child.stdin.on('error', () => undefined); // EPIPE when the process does not read its input
      stdin.pipe(child.stdin);
    }
    const exited = new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, sig) => resolve(code ?? 128 + (sig ? signalNumber(sig) : 0)));
    });
    let killing: Promise<void> | undefined;
    const onAbort = () => {
      killing = this.killUntilGone(id, child);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const exitCode = await exited;
      await Promise.all([finished(out), finished(err)]);
      if (killing) throw new CanceledError(`step ${id} canceled`);
      return { exitCode };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      // No kill invocation may outlive the run (it would race the delete).
      await killing;
    }
  }

  /** Kills the container; retried because an abort can arrive before the runtime has written its state. */
  private async killUntilGone(id: string, child: ReturnType<typeof spawn>): Promise<void> {
    const started = Date.now();
    while (child.exitCode === null && child.signalCode === null) {
      const inv = killInvocation(this.runtime, id);
      await runCommand(inv.file, inv.args).catch(() => undefined);
      if (Date.now() - started > 5000) child.kill('SIGKILL');
      await new Promise((res) => setTimeout(res, 50));
    }
  }

  private async deleteIfPresent(id: string): Promise<void> {
    if (!existsSync(join(this.runtime.stateDir, id))) return;
    const inv = deleteInvocation(this.runtime, id);
    await runCommand(inv.file, inv.args);
  }
}

/**
 * Removes a bundle. The common shape (config.json, an empty rootfs mount point,
 * the run dir's three etc files) goes by direct unlinks — a generic recursive
 * rm costs milliseconds per step; anything else falls back to it.
 */
async function removeBundle(bundle: string): Promise<void> {
  const runDir = join(bundle, 'run');
  try {
    // Synchronous unlinks of a tmpfs/local dir: as promises they waited behind other steps' fsyncs.
    try {
      unlinkSync(join(bundle, 'config.json'));
    } catch {
      // never written (a failure before it)
    }
    rmdirSync(join(bundle, 'rootfs'));
    for (const f of ETC_FILES) unlinkSync(join(runDir, f));
    rmdirSync(runDir);
    rmdirSync(bundle);
  } catch {
    await rm(bundle, { recursive: true, force: true });
  }
}

const ETC_FILES = ['hosts', 'resolv.conf', 'hostname'];

function signalNumber(sig: NodeJS.Signals): number {
  return (osConstants.signals as Record<string, number>)[sig] ?? 0;
}
