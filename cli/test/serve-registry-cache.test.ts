/**
 * Scaling past one server (examples/deploy): two `tsbuild serve` processes on
 * separate, empty stores share their steps through a registry cache only —
 * Debian's docker-registry on 127.0.0.1. Server A builds and exports
 * `--cache-to type=registry,mode=max`; server B, which has never seen the
 * project, builds it `--cache-from` that ref: every step is CACHED, its RUN
 * never runs (the RUN appends to a cache mount, which would appear in B's
 * store), and the image digest is A's.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { startRegistry, type TestRegistry } from '../../registry-client/test/support/registry.js';
import { startServe, withEnv, type ServeProcess } from './serve-support.js';
import { tsbuild } from './support.js';

describe('two build servers share steps through a registry cache', function () {
  this.timeout(240_000);
  let tmp: ReturnType<typeof tempDir>;
  let reg: TestRegistry;
  const servers: ServeProcess[] = [];

  /** The file the RUN appends to in its cache mount: it exists in a store only if the RUN ran there. */
  const runMarker = (root: string) => join(root, 'cache-mounts', createHash('sha256').update('marker').digest('hex'), '0', 'runs');

  before(async () => {
    tmp = tempDir('tsbuild-serve-registry-cache-');
    reg = await startRegistry();
    // The base image reaches the servers through the registry: neither store holds anything beforehand.
    const seed = join(tmp.path, 'seed');
    expect((await tsbuild(seed, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', `${reg.host}/base/bb:1`)).code).to.equal(0);
    expect((await tsbuild(seed, 'push', `${reg.host}/base/bb:1`)).code).to.equal(0);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await reg.stop();
    tmp.cleanup();
  });

  it('server B builds what server A exported to the registry without running a step; same image digest', async () => {
    const ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), [
      `FROM ${reg.host}/base/bb:1`,
      'COPY f /f',
      "RUN --mount=type=cache,target=/cm,id=marker sh -c 'echo ran >> /cm/runs; cat /f > /g'",
      'RUN sh -c "wc -c /g > /size"',
      '',
    ].join('\n'));
    writeFileSync(join(ctx, 'f'), 'shared through the registry\n');
    const rootA = join(tmp.path, 'store-a');
    const rootB = join(tmp.path, 'store-b');
    const sockA = join(tmp.path, 'run', 'a.sock');
    const sockB = join(tmp.path, 'run', 'b.sock');
    // B runs as examples/deploy does, with its cache GC (which runs at start-up and after the build).
    servers.push(await startServe(rootA, sockA), await startServe(rootB, sockB, ['--gc-keep-storage', '1g']));
    const cacheRef = `${reg.host}/app/cache:main`;
    const client = join(tmp.path, 'client'); // the client's own store: untouched by a remote build
    const build = (sock: string, cacheFlag: string[], iid: string) => withEnv({ SOURCE_DATE_EPOCH: '0' }, () =>
      tsbuild(client, 'build', '--server', `unix://${sock}`, '--progress', 'plain', '--iidfile', iid, ...cacheFlag, ctx));

    const onA = await build(sockA, ['--cache-to', `type=registry,ref=${cacheRef},mode=max`], join(tmp.path, 'iid-a'));
    expect(onA.code, onA.stderr).to.equal(0);
    expect(onA.stderr).to.include(`exporting cache to ${cacheRef}`);
    expect(existsSync(runMarker(rootA)), 'the RUN ran on server A').to.equal(true);

    const onB = await build(sockB, ['--cache-from', `type=registry,ref=${cacheRef}`], join(tmp.path, 'iid-b'));
    expect(onB.code, onB.stderr).to.equal(0);
    expect(onB.stderr).to.include(`importing cache manifest from ${cacheRef}`);
    // Every step after FROM (COPY and both RUNs) is served from the imported cache.
    const steps = [...onB.stderr.matchAll(/^#(\d+) \[\d+\/4\] (COPY|RUN)/gm)].map((m) => m[1]!);
    expect(steps).to.have.length(3);
    for (const n of steps) expect(onB.stderr, `step #${n}`).to.match(new RegExp(`^#${n} CACHED$`, 'm'));
    expect(existsSync(runMarker(rootB)), 'the RUN did not run on server B').to.equal(false);
    expect(readFileSync(join(tmp.path, 'iid-b'), 'utf8')).to.match(/^sha256:[0-9a-f]{64}$/).and.to.equal(readFileSync(join(tmp.path, 'iid-a'), 'utf8'));
    expect(existsSync(join(client, 'cache-mounts')), 'nothing ran in the client').to.equal(false);
  });
});
