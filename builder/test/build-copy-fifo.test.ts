/**
 * COPY of a context holding a FIFO: BuildKit recreates it by type with mknod,
 * never reading it (fsutil copy/copy.go copyFile's ModeNamedPipe case ->
 * copy_nowindows.go copyDevice; the context receiver's diskwriter.go
 * HandleChange -> handleTarTypeBlockCharFifo). Its context checksum is its
 * header alone (cache/contenthash/checksum.go hashes content only for
 * `fi.Mode().IsRegular() && fi.Size() > 0`; filehash.go NewFromStat).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { expect } from 'chai';
import { readTar, resolveImage, type TarReadEntry } from '@tsbuild/store';
import { makeBuildEnv, mountsUnder, eventsOf, type BuildEnv } from './build-support.js';

const DOCKERFILE = 'FROM busybox\nCOPY . /c/\nRUN [ -p /c/pipe ] && [ "$(stat -c %a:%u /c/pipe)" = 640:0 ]\n';

describe('build: COPY of a context holding a FIFO or a device node', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  let ctx: string;
  let watchdog: ChildProcess | undefined;
  before(async () => {
    env = await makeBuildEnv('tsbuild-build-fifo-');
    ctx = env.context({ Dockerfile: DOCKERFILE, 'a.txt': 'a' });
    expect(spawnSync('mkfifo', ['-m', '640', join(ctx, 'pipe')]).status).to.equal(0);
    // The guard: a build that opened the FIFO for reading would block the event loop (mocha's
    // timeout could not fire). After 60 s this opens the write end, which frees such a reader,
    // and leaves a mark that fails the tests; while nothing reads, its open just waits.
    watchdog = spawn('sh', ['-c', `sleep 60; exec 3>"$1"; touch "$2"`, 'sh', join(ctx, 'pipe'), join(env.dir, 'read')], { stdio: 'ignore' });
  });
  after(() => {
    if (watchdog?.pid !== undefined && watchdog.exitCode === null) process.kill(watchdog.pid);
    env?.cleanup();
  });
  afterEach(() => {
    expect(existsSync(join(env.dir, 'read')), 'the build opened the FIFO for reading').to.equal(false);
    expect(mountsUnder(env.dir), 'leftover mounts').to.deep.equal([]);
  });

  /** The entries of the image's layer at `index` (negative: from the end). */
  const layerEntries = async (tag: string, index: number): Promise<TarReadEntry[]> => {
    const { manifest } = await resolveImage(env.store.content, (await env.store.images.get(tag)).target);
    const [, hex] = manifest.layers.at(index)!.digest.split(':');
    const raw = readFileSync(join(env.store.root, 'blobs', 'sha256', hex!));
    const entries: TarReadEntry[] = [];
    for await (const e of readTar(Readable.from([raw[0] === 0x1f ? gunzipSync(raw) : raw]))) entries.push(e);
    return entries;
  };

  it('recreates it as a FIFO with its mode, owned by root, in the layer as a type 6 entry', async () => {
    await env.build({ context: ctx, tags: ['t/fifo:1'] }); // the RUN checks the snapshot
    const pipe = (await layerEntries('t/fifo:1', -2)) // the COPY's layer (the RUN's is last)
      .find((e) => e.path.replace(/^\.?\//, '') === 'c/pipe');
    expect(pipe, 'c/pipe in the COPY layer').to.not.equal(undefined);
    expect([pipe!.typeflag, pipe!.type]).to.deep.equal(['6', 'FIFO']);
    expect(pipe!.mode & 0o7777).to.equal(0o640);
    expect([pipe!.uid, pipe!.gid]).to.deep.equal([0, 0]);
  });

  it('a rebuild is cached', async () => {
    await env.build({ context: ctx });
    const res = await env.build({ context: ctx });
    expect(eventsOf(res.events, 'vertex.started')).to.deep.equal([]);
  });

  it('turning it into a regular file invalidates the COPY', async () => {
    rmSync(join(ctx, 'pipe'));
    writeFileSync(join(ctx, 'pipe'), '');
    const before = env.executor.runs;
    const res = await env.build({ context: ctx }).catch((err: unknown) => err);
    // The RUN's [ -p ] now fails: the COPY was not served from the cache.
    expect(res).to.be.instanceOf(Error);
    expect(String(res)).to.match(/RUN \[ -p \/c\/pipe \]|exit code/);
    expect(env.executor.runs - before).to.equal(1);
  });

  it('COPY --from a stage recreates a FIFO with its mode and owner (copyFileInfo keeps them)', async () => {
    const df = [
      'FROM busybox AS s',
      'RUN mkfifo -m 604 /p && chown 5:6 /p',
      'FROM busybox',
      'COPY --from=s /p /q',
      'RUN [ -p /q ] && [ "$(stat -c %a:%u:%g /q)" = 604:5:6 ]',
      '',
    ].join('\n');
    const stageCtx = env.context({ Dockerfile: df }, 'ctx-stage');
    const before = env.executor.runs;
    await env.build({ context: stageCtx });
    expect(env.executor.runs - before).to.equal(2);
  });

  it('a character device node in the context is recreated with its device number, never opened', async () => {
    const devCtx = env.context({ Dockerfile: 'FROM busybox\nCOPY . /c/\n' }, 'ctx-dev');
    expect(spawnSync('mknod', ['-m', '620', join(devCtx, 'null'), 'c', '1', '3']).status).to.equal(0);
    await env.build({ context: devCtx, tags: ['t/dev:1'] });
    const dev = (await layerEntries('t/dev:1', -1)).find((e) => e.path.replace(/^\.?\//, '') === 'c/null');
    expect(dev && [dev.typeflag, dev.devmajor, dev.devminor, dev.mode & 0o7777, dev.uid]).to.deep.equal(['3', 1, 3, 0o620, 0]);
  });
});
