import { expect } from 'chai';
import { mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { isFailedPrecondition } from '@tsbuild/core';
import { createExecutor, findRuntime } from '@tsbuild/runtime';
import { OutputLimiter, TailBuffer } from '../src/output.js';
import { recordStubs, removeStubs } from '../src/stubs.js';
import { unmountInvocation } from '../src/mounter.js';
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
  it('removes only the stubs that are still empty (following symlinks inside the root), deepest first, and reports parent times to restore', async () => {
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
      const restore = await removeStubs(rec);
      expect(existsSync(join(root, 'etc/hosts'))).to.equal(false);
      expect(readdirSync(join(root, 'run'))).to.deep.equal(['keep']);
      expect(existsSync(join(root, 'run/keep/b/user-file'))).to.equal(true);
      expect(restore).to.deep.equal([`${before / 1_000_000_000n}.${String(before % 1_000_000_000n).padStart(9, '0')}`, join(root, 'etc')]);
      const inv = unmountInvocation('/mnt/x', restore);
      expect(inv.file).to.equal('/bin/sh');
      expect(inv.args.slice(3)).to.deep.equal(['/mnt/x', ...restore]);
      expect(unmountInvocation('/mnt/x')).to.deep.equal({ file: 'umount', args: ['/mnt/x'] });
    } finally {
      t.cleanup();
    }
  });
});
