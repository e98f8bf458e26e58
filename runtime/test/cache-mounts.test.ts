import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { isCanceled } from '@tsbuild/core';
import { CacheMountManager } from '@tsbuild/runtime';
import { tempDir } from '../../test/support/fixtures.js';

describe('CacheMountManager', () => {
  let t: { path: string; cleanup: () => void };
  beforeEach(() => (t = tempDir('tsbuild-cache-')));
  afterEach(() => t.cleanup());

  it('creates the directory once with uid/gid/mode and reuses it by id', async () => {
    const m = new CacheMountManager(t.path);
    const a = await m.acquire({ id: 'go', uid: 1000, gid: 2000, mode: 0o700 });
    const st = statSync(a.path);
    expect([st.uid, st.gid, st.mode & 0o7777]).to.deep.equal([1000, 2000, 0o700]);
    writeFileSync(join(a.path, 'f'), 'x');
    await a.release();
    const b = await m.acquire({ id: 'go', uid: 0, mode: 0o755 });
    expect(b.path).to.equal(a.path);
    expect(statSync(b.path).uid).to.equal(1000);
    expect((await m.acquire({ id: 'other' })).path).to.not.equal(a.path);
  });

  it('private: a concurrent user gets a fresh instance; a released one is reused', async () => {
    const m = new CacheMountManager(t.path);
    const a = await m.acquire({ id: 'p', sharing: 'private' });
    const b = await m.acquire({ id: 'p', sharing: 'private' });
    expect(a.path).to.not.equal(b.path);
    await a.release();
    const c = await m.acquire({ id: 'p', sharing: 'private' });
    expect(c.path).to.equal(a.path);
  });

  it('locked: a second user waits until the first releases; abort while waiting is CanceledError', async () => {
    const m = new CacheMountManager(t.path);
    const a = await m.acquire({ id: 'l', sharing: 'locked' });
    let got = false;
    const second = m.acquire({ id: 'l', sharing: 'locked' }).then((l) => ((got = true), l));
    await new Promise((r) => setTimeout(r, 150));
    expect(got).to.equal(false);
    const controller = new AbortController();
    const third = m.acquire({ id: 'l', sharing: 'locked' }, { signal: controller.signal });
    controller.abort();
    let caught: unknown;
    await third.catch((e) => (caught = e));
    expect(isCanceled(caught)).to.equal(true);
    await a.release();
    const b = await second;
    expect(b.path).to.equal(a.path);
    await b.release();
  });

  it('locked is exclusive across processes, and a dead holder’s lock is broken', async () => {
    const m = new CacheMountManager(t.path);
    const first = await m.acquire({ id: 'x', sharing: 'locked' });
    await first.release();
    const keyDir = join(t.path, readdirSync(t.path)[0]!);
    // Another live process holds it: we must wait.
    const holder = spawn('sleep', ['30']);
    try {
      writeFileSync(join(keyDir, '0.lock'), `${holder.pid}@${hostname()}\n`);
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 200);
      let caught: unknown;
      await m.acquire({ id: 'x', sharing: 'locked' }, { signal: controller.signal }).catch((e) => (caught = e));
      expect(isCanceled(caught)).to.equal(true);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    // The holder died without releasing: the stale lock is broken.
    const lease = await m.acquire({ id: 'x', sharing: 'locked' });
    expect(existsSync(join(keyDir, '0.lock'))).to.equal(true);
    await lease.release();
    expect(existsSync(join(keyDir, '0.lock'))).to.equal(false);
  });
});
