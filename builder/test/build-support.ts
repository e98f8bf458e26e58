/**
 * Shared parts of the build tests: a real store in a temp dir with a busybox
 * image made from busybox-static (there is no registry), the real crun
 * executor wrapped in a counter (an observation of real runs, not a mock),
 * a context directory writer, and leak checks (mounts, blobs).
 */
import { readFileSync, mkdirSync, writeFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createExecutor, type ExecRequest, type Executor, type RunOptions, type RunResult } from '@tsbuild/runtime';
import { openStore, packDirectory, writeImage, writeLayer, type Store } from '@tsbuild/store';
import { hostPlatform } from '@tsbuild/core';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { build, type BuildEvent, type BuildOptions, type BuildResult } from '../src/index.js';

export class CountingExecutor implements Executor {
  runs = 0;
  constructor(private readonly inner: Executor) {}
  run(request: ExecRequest, options?: RunOptions): Promise<RunResult> {
    this.runs++;
    return this.inner.run(request, options);
  }
}

export interface BuildEnv {
  dir: string;
  store: Store;
  executor: CountingExecutor;
  cleanup: () => void;
  /** Writes files (path → content) under `<dir>/<sub>` and returns that directory. */
  context(files: Record<string, string>, sub?: string): string;
  build(options: BuildOptions): Promise<BuildResult & { events: BuildEvent[] }>;
}

export const BUSYBOX_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];

export async function makeBuildEnv(prefix = 'tsbuild-build-', options: { snapshotter?: 'copy' | 'overlay' } = {}): Promise<BuildEnv> {
  const t = tempDir(prefix);
  const store = await openStore({ root: join(t.path, 'store'), ...(options.snapshotter ? { snapshotter: options.snapshotter } : {}) });
  const rootfs = makeBusyboxRootfs(join(t.path, 'busybox-rootfs'));
  const layer = await writeLayer(packDirectory(rootfs, { sourceDateEpoch: 0 }), store.content, { compression: 'gzip' });
  const p = hostPlatform();
  const image = await writeImage(store.content, {
    config: {
      architecture: p.architecture, os: p.os, created: '2024-01-01T00:00:00Z',
      config: { Env: BUSYBOX_ENV, Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [layer.diffID] },
      history: [{ created: '2024-01-01T00:00:00Z', created_by: 'busybox-static rootfs', comment: 'test fixture' }],
    },
    layers: [layer.descriptor],
  });
  await store.images.put('busybox:latest', image);
  const executor = new CountingExecutor(
    await createExecutor({ stateDir: join(t.path, 'run', 'state'), bundleDir: join(t.path, 'run', 'bundles'), cacheMountsDir: join(store.root, 'cache-mounts') }),
  );
  return {
    dir: t.path,
    store,
    executor,
    cleanup: t.cleanup,
    context(files, sub = 'ctx') {
      const dir = join(t.path, sub);
      mkdirSync(dir, { recursive: true });
      for (const [path, content] of Object.entries(files)) {
        mkdirSync(dirname(join(dir, path)), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
      return dir;
    },
    async build(options) {
      const events: BuildEvent[] = [];
      const result = await build({ ...options, onEvent: (e) => (events.push(e), options.onEvent?.(e)) }, { store, executor });
      return { ...result, events };
    },
  };
}

/** Mount points at or under `dir` (from /proc/self/mountinfo). */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`));
}

/** Every blob of the store, decompressed when gzip'd, as one buffer each. */
export function* blobContents(store: Store): Generator<{ name: string; data: Buffer }> {
  const dir = join(store.root, 'blobs', 'sha256');
  for (const name of readdirSync(dir)) {
    const raw = readFileSync(join(dir, name));
    yield { name, data: raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw };
  }
}

export function eventsOf<T extends BuildEvent['type']>(events: BuildEvent[], type: T): Array<Extract<BuildEvent, { type: T }>> {
  return events.filter((e): e is Extract<BuildEvent, { type: T }> => e.type === type);
}
