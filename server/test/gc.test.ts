/**
 * The server's build-cache GC (`serve --gc-keep-storage`): after builds it
 * brings the cache back under its cap, while builds of changing Dockerfiles
 * run two at a time and every one of them succeeds (a running build's
 * records are held: never collected under it); the store stays sound.
 */
import { expect } from 'chai';
import { cacheUsage, openBuildCache } from '@tsbuild/builder';
import { join } from 'node:path';
import { remoteBuild, startTestServer, writeContext, type ServerEnv } from './server-support.js';

describe('build server: cache GC by keep-storage', function () {
  this.timeout(300_000);
  const KEEP = 1_500_000;
  let s: ServerEnv;

  before(async () => {
    s = await startTestServer('tsbuild-server-gc-', { gc: { keepBytes: KEEP, minIntervalMs: 0 } });
  });
  after(async () => {
    await s?.close();
  });

  /** Unshared cache bytes: what keep-storage bounds (BuildKit's totalSize). */
  const cacheBytes = async () => (await cacheUsage(s.env.store, openBuildCache(s.env.store.root))).totalSize;

  async function underBound(ms = 30_000): Promise<number> {
    const end = Date.now() + ms;
    for (;;) {
      const bytes = await cacheBytes();
      if (bytes <= KEEP || Date.now() > end) return bytes;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('keeps the cache under keep-storage across 12 builds (two at a time), none failing', async () => {
    const build = (i: number) => {
      // Each Dockerfile differs: ~512 KiB of new cache per build, far past the cap over the run.
      const context = writeContext(join(s.env.dir, `ctx-${i}`), { Dockerfile: `FROM busybox:latest\nRUN echo build-${i} && dd if=/dev/urandom of=/data bs=1024 count=512 2>/dev/null\n` });
      return remoteBuild({ context }, s.unix);
    };
    for (let i = 0; i < 12; i += 2) {
      const results = await Promise.all([build(i), build(i + 1)]);
      for (const r of results) expect(r.digest).to.match(/^sha256:[0-9a-f]{64}$/);
      expect(await underBound(), `cache bytes after builds ${i} and ${i + 1}`).to.be.at.most(KEEP);
    }
    expect(s.server.metrics.buildsFinished).to.deep.equal({ success: 12, failure: 0, canceled: 0 });
    expect(s.server.metrics.gcRuns).to.be.at.least(6);
    expect(s.server.metrics.gcBytesFreed, 'the GC removed records: 12 builds made ~6 MB').to.be.above(12 * 512 * 1024 - KEEP);
    expect((await s.env.store.fsck()).problems).to.deep.equal([]);
  });
});
