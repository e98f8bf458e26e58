/**
 * The remote build cache (api/remote-caches.ts, remote-cache/) between two
 * real stores: a build on store A exports its cache (Debian's docker-registry
 * on 127.0.0.1 behind a proxy that records every request, or an OCI layout
 * directory); the same build on an empty store B imports it and runs no
 * container at all (the executor counts real runs), fetches only the layers
 * the image is made of (not the layer of a cached step of another stage),
 * and gives the same image digest. An unchanged rebuild's export is one
 * manifest PUT; a missing cache is a warning; ignore-error keeps a failed
 * export from failing the build; cache mounts travel with cacheMounts.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { digestHex, type Digest, type Manifest } from '@tsbuild/core';
import { RegistryClient } from '@tsbuild/registry-client';
import { startRegistry, type TestRegistry } from '../../registry-client/test/support/registry.js';
import { startFaultProxy, type FaultProxy } from '../../registry-client/test/support/fault-proxy.js';
import { build, type BuildEvent, type BuildOptions, type BuildResult } from '../src/index.js';
import { eventsOf, makeBuildEnv, type BuildEnv } from './build-support.js';

const DOCKERFILE = [
  'FROM busybox AS tool',
  'RUN echo tool-$RANDOM > /tool && echo not-copied > /scratch-file',
  'FROM busybox',
  'COPY a.txt /a.txt',
  'COPY --from=tool /tool /tool',
  'RUN --mount=type=cache,target=/cm,id=pkgs sh -c \'echo fetched >> /cm/downloads; cat /a.txt /tool > /both\'',
  '',
].join('\n');

describe('build: remote cache (--cache-to / --cache-from) between two stores', function () {
  this.timeout(180_000);
  let reg: TestRegistry;
  let proxy: FaultProxy;
  const envs: BuildEnv[] = [];
  const clients: RegistryClient[] = [];

  before(async () => {
    reg = await startRegistry();
    proxy = await startFaultProxy(reg.host);
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await proxy.close();
    await reg.stop();
    for (const e of envs) e.cleanup();
  });

  const freshEnv = async (): Promise<BuildEnv> => {
    const e = await makeBuildEnv('tsbuild-remote-cache-');
    envs.push(e);
    return e;
  };
  const run = async (env: BuildEnv, ctx: string, options: Partial<BuildOptions>): Promise<BuildResult & { events: BuildEvent[] }> => {
    const events: BuildEvent[] = [];
    const client = new RegistryClient();
    clients.push(client);
    const result = await build(
      { context: ctx, compression: 'gzip', ...options, onEvent: (e) => { events.push(e); options.onEvent?.(e); } },
      { store: env.store, executor: env.executor, registry: async () => client },
    );
    return { ...result, events };
  };
  const contextIn = (env: BuildEnv) => env.context({ Dockerfile: DOCKERFILE, 'a.txt': 'hello\n' });
  const cachedNames = (events: BuildEvent[]) => eventsOf(events, 'vertex.cached').map((e) => e.name).sort();
  const stepNames = (events: BuildEvent[]) => eventsOf(events, 'build.plan')[0]!.vertices.map((v) => v.name).filter((n) => /RUN|COPY/.test(n)).sort();
  const cacheMountFile = (env: BuildEnv, id: string, file: string) => join(env.store.root, 'cache-mounts', createHash('sha256').update(id).digest('hex'), '0', file);
  const storeHas = (env: BuildEnv, digest: string) => existsSync(join(env.store.root, 'blobs', 'sha256', digestHex(digest as Digest)));

  let a: BuildEnv;
  let first: BuildResult;
  const ref = () => `${proxy.host}/cache/app:buildcache`;

  it('type=registry, mode=max: a fresh store runs nothing, fetches only the image\'s layers, and builds the same image', async () => {
    a = await freshEnv();
    const t0 = performance.now();
    let exportStart = -1;
    first = await run(a, contextIn(a), {
      cacheTo: [{ type: 'registry', ref: ref(), mode: 'max' }],
      onEvent: (e) => { if (e.type === 'export.started' && e.id === 'export.cache.0') exportStart = proxy.seen.length; },
    });
    const exportRequests = proxy.seen.slice(exportStart);
    // The target's manifest (none yet), then four layers (busybox, two COPYs, the RUN) and the tool stage's RUN, then the config:
    // a HEAD and an upload (POST, PUT) each; one manifest PUT.
    expect(exportRequests.filter((l) => /^GET .*\/manifests\//.test(l))).to.have.length(1);
    expect(exportRequests.filter((l) => l.startsWith('HEAD'))).to.have.length(6);
    expect(exportRequests.filter((l) => /^PUT .*\/manifests\//.test(l))).to.have.length(1);
    const exportMs = eventsOf((first as BuildResult & { events: BuildEvent[] }).events, 'export.completed').find((e) => e.id === 'export.cache.0')!.durationMs;
    expect(a.executor.runs).to.equal(2);
    // The `tool` stage's RUN layer is in the max cache but not in the image.
    const toolLayer = lastLayerOf(a, await run(a, contextIn(a), { target: 'tool' }));

    const b = await freshEnv();
    const seenBefore = proxy.seen.length;
    const t1 = performance.now();
    const second = await run(b, contextIn(b), { cacheFrom: [{ type: 'registry', ref: ref() }] });
    const importMs = performance.now() - t1;
    expect(b.executor.runs, 'no RUN executes on the fresh store').to.equal(0);
    expect(existsSync(cacheMountFile(b, 'pkgs', 'downloads')), 'the RUN\'s cache mount marker').to.equal(false);
    expect(second.digest).to.equal(first.digest);
    // The last step hits on its definition key; the steps below it are only keyed, and reported cached
    // (as BuildKit's progress does), the tool stage's too: every step shows CACHED, none ran.
    expect(cachedNames(second.events).filter((n) => !/\] FROM /.test(n))).to.deep.equal(stepNames(second.events));
    expect(eventsOf(second.events, 'vertex.started').map((e) => e.name)).to.deep.equal([`importing cache manifest from ${ref()}`]);
    expect(storeHas(b, toolLayer), 'a cached step nothing needs is not downloaded').to.equal(false);
    const blobGets = proxy.seen.slice(seenBefore).filter((l) => /^GET .*\/blobs\//.test(l));
    // The cache config and the image's three own layers (busybox is in store B already).
    expect(blobGets).to.have.length(4);
    console.log(`      first build + export: export ${exportMs.toFixed(0)} ms, ${exportRequests.length} requests (build ${(t1 - t0).toFixed(0)} ms); fresh store with import: ${importMs.toFixed(0)} ms, ${proxy.seen.length - seenBefore} requests`);
  });

  it('an unchanged rebuild that imports and exports the same ref costs one manifest PUT', async () => {
    let exportStart = -1;
    const r = await run(a, contextIn(a), {
      cacheFrom: [{ type: 'registry', ref: ref() }],
      cacheTo: [{ type: 'registry', ref: ref(), mode: 'max' }],
      onEvent: (e) => { if (e.type === 'export.started' && e.id === 'export.cache.0') exportStart = proxy.seen.length; },
    });
    expect(r.digest).to.equal(first.digest);
    expect(exportStart).to.be.greaterThan(0);
    expect(proxy.seen.slice(exportStart)).to.deep.equal(['PUT /v2/cache/app/manifests/buildcache']);
  });

  it('without --cache-from, an unchanged rebuild\'s export reads the target\'s manifest and PUTs it again: two requests', async () => {
    let exportStart = -1;
    await run(a, contextIn(a), {
      cacheTo: [{ type: 'registry', ref: ref(), mode: 'max' }],
      onEvent: (e) => { if (e.type === 'export.started' && e.id === 'export.cache.0') exportStart = proxy.seen.length; },
    });
    expect(proxy.seen.slice(exportStart).filter((l) => l !== 'GET /v2/')).to.deep.equal(['GET /v2/cache/app/manifests/buildcache', 'PUT /v2/cache/app/manifests/buildcache']);
  });

  it('type=local (an OCI layout), image-manifest=false: the same on a fresh store; mode=min leaves the other stage out', async () => {
    const dir = join(a.dir, 'layout-cache');
    await run(a, contextIn(a), { cacheTo: [{ type: 'local', dest: dir, imageManifest: false }] });
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    expect(index.manifests).to.have.length(1);
    expect(index.manifests[0].annotations['org.opencontainers.image.ref.name']).to.equal('latest');
    expect(index.manifests[0].mediaType).to.equal('application/vnd.oci.image.index.v1+json');

    const b = await freshEnv();
    const second = await run(b, contextIn(b), { cacheFrom: [{ type: 'local', src: dir }] });
    expect(second.digest).to.equal(first.digest);
    // mode=min: the image's own steps hit; the tool stage is not in the cache, but nothing needs it either.
    expect(b.executor.runs).to.equal(0);
  });

  it('a missing --cache-from is a warning and the build goes on; ignore-error=true keeps a failed export from failing it', async () => {
    // The registry refuses every push to cache/denied (as a read-only token would).
    proxy.inject((req) => req.url?.startsWith('/v2/cache/denied/') === true && req.method !== 'GET', Array.from({ length: 40 }, () => ({ status: 403 })));
    const denied = `${proxy.host}/cache/denied:x`;
    const b = await freshEnv();
    const r = await run(b, contextIn(b), {
      cacheFrom: [{ type: 'registry', ref: `${proxy.host}/cache/none:missing` }, { type: 'local', src: join(b.dir, 'nowhere') }],
      cacheTo: [{ type: 'registry', ref: denied, ignoreError: true }],
    });
    const warnings = eventsOf(r.events, 'warning').map((e) => e.warning.message);
    expect(warnings.some((w) => w.includes('no cache at') && w.includes('cache/none:missing'))).to.equal(true);
    expect(warnings.some((w) => w.includes(`cache export to ${denied} failed (ignore-error=true)`))).to.equal(true);
    expect(b.executor.runs).to.equal(2);
    let failure: unknown;
    await run(b, contextIn(b), { cacheTo: [{ type: 'registry', ref: denied }] }).catch((err) => { failure = err; });
    expect(String(failure)).to.match(/cache\/denied.*403|403.*cache\/denied/);
  });

  it('cacheMounts: a RUN --mount=type=cache directory is restored on a fresh store', async () => {
    const c = await freshEnv();
    const ctx = c.context({ Dockerfile: DOCKERFILE, 'a.txt': 'mounts\n' }, 'ctx-mounts');
    await run(c, ctx, { cacheTo: [{ type: 'registry', ref: `${proxy.host}/cache/mounts:latest`, cacheMounts: true }] });
    expect(readFileSync(cacheMountFile(c, 'pkgs', 'downloads'), 'utf8')).to.equal('fetched\n');

    const d = await freshEnv();
    const dCtx = d.context({ Dockerfile: DOCKERFILE, 'a.txt': 'changed, so the RUN runs\n' }, 'ctx-mounts');
    await run(d, dCtx, { cacheFrom: [{ type: 'registry', ref: `${proxy.host}/cache/mounts:latest` }] });
    expect(d.executor.runs).to.be.greaterThan(0);
    // The restored directory, then this build's own RUN appended to it: a warm cache.
    expect(readFileSync(cacheMountFile(d, 'pkgs', 'downloads'), 'utf8')).to.equal('fetched\nfetched\n');
  });
});

/** The digest of the last layer of a built image in `env`'s store. */
function lastLayerOf(env: BuildEnv, result: BuildResult): string {
  const manifest = JSON.parse(readFileSync(join(env.store.root, 'blobs', 'sha256', digestHex(result.digest)), 'utf8')) as Manifest;
  return manifest.layers.at(-1)!.digest;
}
