import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AlreadyExistsError, NotFoundError, selfOwner, sha256 } from '@tsbuild/core';
import { FileLeaseManager, isLeaseLive } from '@tsbuild/store';
import { tempDir } from '../../test/support/fixtures.js';

const run = promisify(execFile);

describe('lease: FileLeaseManager', () => {
  let dir: ReturnType<typeof tempDir>;
  let leases: FileLeaseManager;
  beforeEach(() => {
    dir = tempDir('tsbuild-lease-');
    leases = new FileLeaseManager(dir.path);
  });
  afterEach(() => dir.cleanup());

  it('creates one JSON file per lease, adds resources once, deletes', async () => {
    const lease = await leases.create({ id: 'build-1' });
    expect(lease.pid).to.equal(process.pid);
    await leases.addResource('build-1', { type: 'content', digest: sha256('a') });
    await leases.addResource('build-1', { type: 'content', digest: sha256('a') });
    await leases.addResource('build-1', { type: 'snapshot', key: 'k1' });
    const onDisk = JSON.parse(readFileSync(join(dir.path, 'leases/build-1.json'), 'utf8'));
    expect(onDisk.resources).to.deep.equal([{ type: 'content', digest: sha256('a') }, { type: 'snapshot', key: 'k1' }]);
    expect((await leases.list()).map((l) => l.id)).to.deep.equal(['build-1']);
    expect(await leases.create({ id: 'build-1' }).catch((e: unknown) => e)).to.be.instanceOf(AlreadyExistsError);
    await leases.delete('build-1');
    expect(await leases.list()).to.deep.equal([]);
    expect(await leases.delete('build-1').catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
    expect(await leases.addResource('nope', { type: 'cache', key: 'x' }).catch((e: unknown) => e)).to.be.instanceOf(NotFoundError);
  });

  it('addResources adds several in one write, each once', async () => {
    await leases.create({ id: 'many' });
    await leases.addResources('many', [{ type: 'snapshot', key: 'a' }, { type: 'content', digest: sha256('x') }, { type: 'snapshot', key: 'a' }]);
    await leases.addResources('many', [{ type: 'snapshot', key: 'a' }, { type: 'snapshot', key: 'b' }]);
    const lease = (await leases.list()).find((l) => l.id === 'many')!;
    expect(lease.resources).to.deep.equal([{ type: 'snapshot', key: 'a' }, { type: 'content', digest: sha256('x') }, { type: 'snapshot', key: 'b' }]);
  });

  it('concurrent addResource calls all land', async () => {
    await leases.create({ id: 'b' });
    await Promise.all(Array.from({ length: 20 }, (_, i) => leases.addResource('b', { type: 'snapshot', key: `k${i}` })));
    expect((await leases.list())[0]!.resources).to.have.length(20);
  });

  it('is live until expiresAt, and only while its creating process lives', async () => {
    const live = await leases.create({ ttlMs: 60_000 });
    expect(isLeaseLive(live)).to.equal(true);
    const expired = await leases.create({ ttlMs: -1 });
    expect(isLeaseLive(expired)).to.equal(false);
    const script = `import { FileLeaseManager } from '@tsbuild/store'; await new FileLeaseManager(${JSON.stringify(dir.path)}).create({ id: 'crashed' });`;
    await run(process.execPath, ['--conditions=tsbuild-source', '--import=tsx', '--input-type=module', '-e', script], { cwd: join(import.meta.dirname, '../..') });
    const crashed = (await leases.list()).find((l) => l.id === 'crashed')!;
    expect(crashed.pid).to.not.equal(process.pid);
    expect(isLeaseLive(crashed)).to.equal(false);
  });

  it('issue 13: a recycled pid does not keep a dead lease live (the start time is recorded and compared)', async () => {
    const mine = await leases.create({ id: 'mine' });
    expect(mine.pidStart).to.equal(selfOwner().start);
    expect(isLeaseLive(mine)).to.equal(true);
    // Same pid, another start time: the process that made it is gone and this pid was given to another.
    writeFileSync(join(dir.path, 'leases', 'recycled.json'), JSON.stringify({ id: 'recycled', createdAt: new Date().toISOString(), pid: process.pid, pidStart: '1', resources: [] }));
    const recycled = (await leases.list()).find((l) => l.id === 'recycled')!;
    expect(isLeaseLive(recycled)).to.equal(false);
  });
});
