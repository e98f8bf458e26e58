/**
 * Removing a container: its writable layer (active snapshot) and its record.
 * A running one is refused unless `force`; forcing stops its owning
 * `tsbuild run` process with SIGTERM (which kills the container and unmounts
 * everything) and waits for that process to be gone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { FailedPreconditionError, isNotFound, pidAlive, throwIfAborted } from '@tsbuild/core';
import type { Store } from '@tsbuild/store';
import { ContainerRecords, effectiveStatus, type ContainerRecord } from './records.js';

export interface RemoveOptions {
  force: boolean;
  signal?: AbortSignal;
  /** How long to wait for a stopped run process before SIGKILL (default 10 s, docker's stop timeout). */
  stopTimeoutMs?: number;
}

export async function removeContainer(store: Store, record: ContainerRecord, o: RemoveOptions): Promise<void> {
  if (effectiveStatus(record) === 'running') {
    if (!o.force) {
      throw new FailedPreconditionError(`cannot remove container ${record.name}: it is running (stop it first, or use rm -f)`, { code: 'CONTAINER_RUNNING' });
    }
    await stopOwner(record.pid!, o.stopTimeoutMs ?? 10_000, o.signal);
  }
  const snapshotter = await store.snapshotter(o.signal ? { signal: o.signal } : {});
  await snapshotter.remove(record.snapshotKey).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
  await new ContainerRecords(store.root).remove(record.id);
}

async function stopOwner(pid: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<void> {
  const signalPid = (sig: NodeJS.Signals) => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  signalPid('SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid)) {
    throwIfAborted(signal);
    if (Date.now() > deadline) signalPid('SIGKILL');
    await sleep(50);
  }
}
