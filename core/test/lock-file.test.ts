import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { acquireLock, tryLock, withLock } from '@tsbuild/core';
import { tempDir } from '../../test/support/fixtures.js';

const run = promisify(execFile);

describe('lock files: withLock, acquireLock, tryLock', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir('tsbuild-lock-')));
  afterEach(() => dir.cleanup());

  it('a lock left by a dead process is broken', async () => {
    const lock = join(dir.path, 'x.lock');
    const { stdout } = await run(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    writeFileSync(lock, `${stdout}@${hostname()}\n`);
    expect(await withLock(lock, async () => 'got it', { timeoutMs: 2000 })).to.equal('got it');
  });

  it('in one process, a lock is taken in the order it was asked for, one holder at a time; an aborted waiter leaves the queue intact', async () => {
    const lock = join(dir.path, 'q.lock');
    const order: number[] = [];
    let holders = 0;
    const gaveUp = new AbortController();
    const calls = Array.from({ length: 12 }, (_, i) =>
      withLock(lock, async () => {
        expect(++holders).to.equal(1);
        await new Promise((r) => setTimeout(r, 1));
        order.push(i);
        holders--;
      }, i === 5 ? { signal: gaveUp.signal } : {}).catch((e: unknown) => e),
    );
    gaveUp.abort();
    const results = await Promise.all(calls);
    expect((results[5] as Error).name).to.equal('CanceledError');
    expect(order).to.deep.equal([0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]);
    expect(existsSync(lock)).to.equal(false);
  });

  it('a lock held by a live process times out with UnavailableError', async () => {
    const lock = join(dir.path, 'y.lock');
    writeFileSync(lock, `${process.pid}@${hostname()}\n`);
    const err = await withLock(lock, async () => 1, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect((err as { code: string }).code).to.equal('STORE_LOCK_TIMEOUT');
  });

  it('tryLock takes a free lock, refuses a held one (in this process or by a live pid) and releases once', async () => {
    const lock = join(dir.path, 't.lock');
    const release = await tryLock(lock);
    expect(release).to.be.a('function');
    expect(await tryLock(lock)).to.equal(undefined);
    release!();
    release!();
    expect(existsSync(lock)).to.equal(false);
    writeFileSync(lock, `${process.pid}@${hostname()}\n`);
    expect(await tryLock(lock)).to.equal(undefined);
  });

  it('acquireLock with timeoutMs Infinity waits for a holder in this process and is canceled by its signal', async () => {
    const lock = join(dir.path, 'w.lock');
    const first = await acquireLock(lock);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const err = await acquireLock(lock, { timeoutMs: Infinity, signal: ac.signal }).catch((e: unknown) => e);
    expect((err as Error).name).to.equal('CanceledError');
    const second = acquireLock(lock, { timeoutMs: Infinity });
    first();
    (await second)();
    expect(existsSync(lock)).to.equal(false);
  });
});
