import { expect } from 'chai';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { isFailedPrecondition } from '@tsbuild/core';
import { createExecutor, findRuntime } from '@tsbuild/runtime';
import { OutputLimiter, TailBuffer } from '../src/output.js';
import { recordStubs, removeStubs } from '../src/stubs.js';
import { mount, unmount } from '../src/mounter.js';
import { sys } from '../src/sys.js';
import { tempDir } from '../../test/support/fixtures.js';

describe('runtime lookup', () => {
  it('a missing runtime is FailedPrecondition RUNTIME_NOT_FOUND that says how to install it', async () => {
    for (const attempt of [() => findRuntime('crun', '/nonexistent'), () => findRuntime(undefined, '/nonexistent'), () => createExecutor({ runtime: '/nonexistent/crun' })]) {
      let caught: unknown;
      await attempt().catch((e) => (caught = e));
      expect(isFailedPrecondition(caught)).to.equal(true);
      expect((caught as { code: string }).code).to.equal('RUNTIME_NOT_FOUND');
      expect(String((caught as Error).message)).to.contain('apt-get install crun');
    }
  });
  it('defaults to crun, then runc, on PATH', async () => {
    expect(await findRuntime(undefined, '/usr/bin:/usr/sbin')).to.equal('/usr/bin/crun');
    expect(await findRuntime(undefined, '/usr/sbin')).to.equal('/usr/sbin/runc');
  });
});

describe('output limiter', () => {
  const sink = () => {
    const p = new PassThrough();
    const chunks: string[] = [];
    p.on('data', (c: Buffer) => chunks.push(c.toString()));
    return { p, text: () => chunks.join('') };
  };
  it('shares one budget across streams, writes one notice, then drops silently', async () => {
    const limiter = new OutputLimiter(10);
    const out = sink();
    const err = sink();
    const o = limiter.writable(out.p);
    const e = limiter.writable(err.p);
    const write = (w: NodeJS.WritableStream, s: string) => new Promise<void>((r) => w.write(s, () => r()));
    await write(o, '123456');
    await write(e, 'abcdef');
    await write(o, 'more');
    await write(e, 'more');
    expect(out.text()).to.equal('123456');
    expect(err.text()).to.equal('abcd\n[output clipped, log limit 10B reached]\n');
  });
  it('tail keeps the last lines', async () => {
    const tail = new TailBuffer(2);
    const w = tail.tee(undefined);
    await new Promise<void>((r) => w.write('a\nb\nc\n', () => r()));
    expect(tail.lines()).to.equal('b\nc');
  });
});

describe('mount-point stubs', () => {
  it('removes only the stubs that are still empty (following symlinks inside the root), deepest first, and restores parent times to the nanosecond', async () => {
    const t = tempDir();
    try {
      const root = t.path;
      mkdirSync(join(root, 'etc'));
      writeFileSync(join(root, 'etc/passwd'), 'x');
      const before = statSync(join(root, 'etc'), { bigint: true }).mtimeNs;
      mkdirSync(join(root, 'var'));
      symlinkSync('/run', join(root, 'var/run'));
      const rec = await recordStubs(root, ['/etc/hosts', '/etc/passwd', '/run/secrets/a', '/var/run/keep/b']);
      expect(rec.paths.map((p) => p.slice(root.length))).to.have.members(['/etc/hosts', '/run', '/run/secrets', '/run/secrets/a', '/run/keep', '/run/keep/b']);
      // What a runtime would create, plus something the process wrote under a stub dir.
      await new Promise((r) => setTimeout(r, 20));
      writeFileSync(join(root, 'etc/hosts'), '');
      mkdirSync(join(root, 'run/secrets'), { recursive: true });
      writeFileSync(join(root, 'run/secrets/a'), '');
      mkdirSync(join(root, 'run/keep/b'), { recursive: true });
      writeFileSync(join(root, 'run/keep/b/user-file'), 'kept');
      expect(statSync(join(root, 'etc'), { bigint: true }).mtimeNs).to.not.equal(before);
      await removeStubs(rec);
      expect(existsSync(join(root, 'etc/hosts'))).to.equal(false);
      expect(readdirSync(join(root, 'run'))).to.deep.equal(['keep']);
      expect(existsSync(join(root, 'run/keep/b/user-file'))).to.equal(true);
      expect(statSync(join(root, 'etc'), { bigint: true }).mtimeNs).to.equal(before);
    } finally {
      t.cleanup();
    }
  });
});

describe('host mounts through mount(2)', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir('tsbuild-mounter-')));
  afterEach(() => t.cleanup());

  it('a read-only bind is read-only, an overlay merges, and unmounting twice is fine', async () => {
    for (const d of ['src', 'bind', 'lower', 'upper', 'work', 'merged']) mkdirSync(join(t.path, d));
    writeFileSync(join(t.path, 'src/f'), 'src');
    writeFileSync(join(t.path, 'lower/l'), 'lower');
    await mount({ type: 'bind', source: join(t.path, 'src'), options: ['rbind', 'ro'] }, join(t.path, 'bind'));
    try {
      expect(readFileSync(join(t.path, 'bind/f'), 'utf8')).to.equal('src');
      expect(() => writeFileSync(join(t.path, 'bind/g'), 'x')).to.throw(/EROFS/);
    } finally {
      await unmount(join(t.path, 'bind'));
    }
    await unmount(join(t.path, 'bind'));
    const o = { type: 'overlay', source: 'overlay', options: ['index=off', `lowerdir=${join(t.path, 'lower')}`, `upperdir=${join(t.path, 'upper')}`, `workdir=${join(t.path, 'work')}`] };
    await mount(o, join(t.path, 'merged'));
    writeFileSync(join(t.path, 'merged/new'), 'new');
    await unmount(join(t.path, 'merged'));
    expect(readdirSync(join(t.path, 'upper'))).to.deep.equal(['new']);
    expect(readdirSync(join(t.path, 'merged'))).to.deep.equal([]);
  });

  it('a writable overlay is unmounted on the thread pool (the promise settles once it is gone); errors keep their errno', async () => {
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(t.path, d));
    const o = { type: 'overlay', source: 'overlay', options: ['index=off', `lowerdir=${join(t.path, 'lower')}`, `upperdir=${join(t.path, 'upper')}`, `workdir=${join(t.path, 'work')}`] };
    await mount(o, join(t.path, 'merged'));
    writeFileSync(join(t.path, 'merged/written'), 'w');
    const unmounted = unmount(join(t.path, 'merged'), { writable: true });
    await unmounted;
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).to.not.contain(join(t.path, 'merged'));
    expect(readdirSync(join(t.path, 'upper'))).to.deep.equal(['written']);
    await unmount(join(t.path, 'merged'), { writable: true }); // not mounted any more: fine, as the sync one
    const err = await sys().umount2Async(join(t.path, 'merged'), 0).catch((e: unknown) => e);
    expect((err as { code?: string }).code).to.equal('EINVAL');
    expect((err as Error).message).to.contain('umount2').and.contain(join(t.path, 'merged'));
  });

  it('a failed mount says what was asked and why (errno code)', async () => {
    const err = await mount({ type: 'overlay', source: 'overlay', options: ['lowerdir=/nonexistent-lower'] }, t.path).catch((e: unknown) => e);
    expect((err as Error).message).to.contain('mounting overlay overlay at').and.contain('lowerdir=/nonexistent-lower').and.match(/ENOENT|EINVAL/);
    expect(((err as Error).cause as { code?: string }).code).to.match(/^E[A-Z]+$/);
  });

  it('a busy mount is detached lazily after retries, so cleanup completes', async () => {
    mkdirSync(join(t.path, 'src'));
    mkdirSync(join(t.path, 'busy'));
    await mount({ type: 'bind', source: join(t.path, 'src'), options: ['bind'] }, join(t.path, 'busy'));
    const fd = openSync(join(t.path, 'busy'), 'r');
    const cwd = process.cwd();
    process.chdir(join(t.path, 'busy')); // a busy mount point: our own working directory
    try {
      await unmount(join(t.path, 'busy'));
    } finally {
      process.chdir(cwd);
      closeSync(fd);
    }
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).to.not.contain(join(t.path, 'busy'));
  });
});
