/**
 * The run engine behind `tsbuild run`: image → unpacked layers → a writable
 * snapshot → a container process, with a record that `ps`/`rm` read.
 *
 * Lifecycle:
 *   resolve the image (NotFound → "image … not found in the store"; of an index, the --platform's or the host's)
 *   → check its platform is the one asked for and runs here (a foreign one through QEMU)
 *   → lease its chain ids (a concurrent prune cannot take them between unpack and prepare)
 *   → unpackLayers (reuses committed layers) → record (status created, name claimed)
 *   → prepare the active snapshot `container-<id>` → status running (pid = this process)
 *   → Executor.run → status exited with the exit code
 *   → with `remove`: snapshot and record removed; the lease is always released.
 * Without `remove` the record keeps the snapshot alive: prune keeps active snapshots and their parents.
 */
import { randomBytes } from 'node:crypto';
import { formatPlatform, isCanceled, isNotFound, normalizePlatform, NotFoundError, platformMatches, type Digest, type ImageConfig, type Platform } from '@tsbuild/core';
import { chainIds, findImage, resolveImage, unpackLayers, type Store } from '@tsbuild/store';
import { createExecutor, platformNotRunnable, platformSupport, type BindExecMount } from '@tsbuild/runtime';
import { EXIT_ENGINE_ERROR, execFailureExitCode, HeadTap, signalExitCode } from './exit-codes.js';
import { generateName } from './names.js';
import { processRequest, type RunOverrides } from './process-config.js';
import { ContainerRecords, type ContainerRecord } from './records.js';

export interface RunContainerOptions {
  store: Store;
  image: string;
  /** `--platform`: the image of an index to run, and a check that a plain image is of it; default the host's. */
  platform?: Platform;
  overrides: Omit<RunOverrides, 'hostname'> & { hostname?: string };
  mounts: BindExecMount[];
  network: 'host' | 'none';
  name?: string;
  /** `--rm`: remove the snapshot and the record when the container exits. */
  remove: boolean;
  /** 'crun', 'runc' or a path; default crun, then runc. */
  runtime?: string;
  callerEnv: NodeJS.ProcessEnv;
  stdin?: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  signal: AbortSignal;
}

export interface RunContainerResult {
  /** The container's exit code, or docker's 126/127 for an exec failure, or 130/143 when interrupted. */
  exitCode: number;
  record: ContainerRecord;
}

export async function runContainer(o: RunContainerOptions): Promise<RunContainerResult> {
  const { store, signal } = o;
  const { record: tag } = await findImage(store, o.image, { signal }).catch((err: unknown) => {
    if (isNotFound(err)) throw new NotFoundError(`image "${o.image}" not found in the store`, { code: 'RUN_IMAGE_NOT_FOUND', cause: err });
    throw err;
  });
  const image = await resolveImage(store.content, tag.target, { signal, ...(o.platform ? { platform: o.platform } : {}) });
  await checkRunnable(o.image, image.config, o.platform);
  const id = randomBytes(32).toString('hex');
  const hostname = o.overrides.hostname ?? id.slice(0, 12);
  const process = processRequest(image.config.config ?? {}, { ...o.overrides, hostname }, o.callerEnv);
  const executor = await createExecutor(o.runtime ? { runtime: o.runtime } : {}, { signal });

  const chain = chainIds(image.config.rootfs.diff_ids as Digest[]);
  const snapshotKey = `container-${id}`;
  const lease = await store.leases.create({ id: `run-${id}` });
  try {
    await store.leases.addResources(lease.id, [...chain, snapshotKey].map((key) => ({ type: 'snapshot' as const, key })));
    const snapshotter = await store.snapshotter({ signal });
    const { chainId } = await unpackLayers({ provider: store.content, snapshotter, layers: image.manifest.layers, diffIDs: image.config.rootfs.diff_ids as Digest[], signal });

    const records = new ContainerRecords(store.root);
    const name = o.name ?? generateName(new Set((await records.list()).map((r) => r.name)));
    let record: ContainerRecord = {
      id, name, image: o.image, imageId: image.configDescriptor.digest, command: process.args,
      created: new Date().toISOString(), status: 'created', snapshotKey,
    };
    await records.create(record);
    let prepared = false;
    let exitCode = EXIT_ENGINE_ERROR;
    try {
      const rootfs = await snapshotter.prepare(snapshotKey, chainId, { labels: { 'tsbuild.container': id } });
      prepared = true;
      record = await records.update(id, { status: 'running', pid: globalThis.process.pid });
      const stderr = new HeadTap(o.stderr);
      try {
        const result = await executor.run(
          { id, rootfs, process, mounts: o.mounts, network: o.network, hostname },
          { signal, stdout: o.stdout, stderr, ...(o.stdin ? { stdin: o.stdin } : {}) },
        );
        // An interruption racing the container's own exit still reports the signal, like docker.
        if (signal.aborted) exitCode = signalExitCode(signal.reason);
        else exitCode = result.exitCode === 0 ? 0 : (execFailureExitCode(stderr.head) ?? result.exitCode);
      } catch (err) {
        if (!(isCanceled(err) && signal.aborted)) throw err;
        exitCode = signalExitCode(signal.reason);
      }
      return { exitCode, record: (record = { ...record, status: 'exited', exitCode }) };
    } finally {
      if (o.remove) {
        if (prepared) await snapshotter.remove(snapshotKey).catch(() => undefined);
        await records.remove(id);
      } else {
        // A run that failed before starting stays "created", like docker's.
        const status = record.status === 'created' ? 'created' : 'exited';
        await records.update(id, { status, exitCode, finishedAt: new Date().toISOString() }).catch(() => undefined);
      }
    }
  } finally {
    await store.leases.delete(lease.id).catch(() => undefined);
  }
}

/**
 * The image must be of the platform asked for (docker run --platform refuses an image of another),
 * and a platform this host can run: a foreign one needs its QEMU handler (runtime's emulation.ts).
 */
async function checkRunnable(name: string, config: ImageConfig, wanted: Platform | undefined): Promise<void> {
  const actual: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
  if (wanted && !platformMatches(wanted, actual)) {
    throw new NotFoundError(`image "${name}" is ${formatPlatform(normalizePlatform(actual))}, not the requested ${formatPlatform(normalizePlatform(wanted))}`, { code: 'RUN_PLATFORM_MISMATCH' });
  }
  const support = await platformSupport(actual);
  if (!support.runnable) throw platformNotRunnable(actual, support);
}
