/**
 * Picks the snapshotter for a store root. With `kind: 'auto'` (the default)
 * overlayfs is probed once, by really mounting a tiny two-lower overlay under
 * `<root>/snapshots/` (the same filesystem the snapshots will use: an upper dir
 * on overlayfs or on some FUSE filesystems fails even where the kernel has
 * overlay). If the probe fails, the copy snapshotter is returned with the
 * reason in `fallbackReason`, and `onWarning` is told once.
 *
 * A successful probe is remembered in `<root>/snapshots/.overlay-probe.json`
 * with the kernel release and the snapshots directory's device, so later
 * processes on the same kernel and filesystem skip it (two `mount` spawns and
 * a dozen directory operations: ~15 ms of every build, a no-op rebuild's
 * included). A failure is never remembered: the next process probes again.
 */
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { throwIfAborted } from '@tsbuild/core';
import type { Snapshotter } from '../types.js';
import { CopySnapshotter } from './copy-snapshotter.js';
import { OverlaySnapshotter } from './overlay-snapshotter.js';

const run = promisify(execFile);

export type SnapshotterKind = 'auto' | 'overlay' | 'copy';

export interface CreateSnapshotterOptions {
  kind?: SnapshotterKind;
  /** Told once when 'auto' falls back to copying. */
  onWarning?: (warning: { code: 'STORE_SNAPSHOTTER_FALLBACK'; message: string }) => void;
  signal?: AbortSignal;
}

export type SelectedSnapshotter = Snapshotter & { readonly kind: 'overlay' | 'copy'; readonly fallbackReason?: string | undefined };

export async function createSnapshotter(root: string, options: CreateSnapshotterOptions = {}): Promise<SelectedSnapshotter> {
  const kind = options.kind ?? 'auto';
  throwIfAborted(options.signal);
  if (kind === 'overlay') return new OverlaySnapshotter(root);
  if (kind === 'copy') return new CopySnapshotter(root);
  const dir = join(root, 'snapshots');
  if (await probedBefore(dir)) return new OverlaySnapshotter(root);
  const failure = await probeOverlay(dir);
  if (failure === undefined) {
    await rememberProbe(dir);
    return new OverlaySnapshotter(root);
  }
  const copy = new CopySnapshotter(root);
  copy.fallbackReason = failure;
  options.onWarning?.({ code: 'STORE_SNAPSHOTTER_FALLBACK', message: `overlayfs unavailable, copying snapshots instead: ${failure}` });
  return copy;
}

const PROBE_FILE = '.overlay-probe.json';

async function probeIdentity(dir: string): Promise<string> {
  return JSON.stringify({ v: 1, kernel: release(), dev: (await stat(dir)).dev });
}

async function probedBefore(dir: string): Promise<boolean> {
  try {
    return (await readFile(join(dir, PROBE_FILE), 'utf8')) === (await probeIdentity(dir));
  } catch {
    return false;
  }
}

/** Best effort (a read-only store still works: it probes every time). */
async function rememberProbe(dir: string): Promise<void> {
  const tmp = join(dir, `${PROBE_FILE}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, await probeIdentity(dir));
    await rename(tmp, join(dir, PROBE_FILE));
  } catch {
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}

/** Mounts, writes through and unmounts a tiny overlay under `dir`. Resolves to why it failed, or undefined if it worked. */
export async function probeOverlay(dir: string): Promise<string | undefined> {
  await mkdir(dir, { recursive: true });
  const base = await mkdtemp(join(dir, '.probe-'));
  const [l1, l2, upper, work, merged] = ['l1', 'l2', 'u', 'w', 'm'].map((d) => join(base, d)) as [string, string, string, string, string];
  let mounted = false;
  try {
    await Promise.all([l1, l2, upper, work, merged].map((d) => mkdir(d)));
    await writeFile(join(l2, 'lower'), 'x');
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `index=off,lowerdir=${l1}:${l2},upperdir=${upper},workdir=${work}`, merged]);
    mounted = true;
    await access(join(merged, 'lower'));
    await writeFile(join(merged, 'upper'), 'y');
    await access(join(upper, 'upper'));
    return undefined;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    return stderr || (err instanceof Error ? err.message : String(err));
  } finally {
    if (mounted) await run('umount', [merged]).catch(() => run('umount', ['-l', merged]).catch(() => undefined));
    await rm(base, { recursive: true, force: true }).catch(() => undefined);
  }
}
