/**
 * Incremental context transfer (context-sync.ts): a server-side copy per
 * client context; the client sends only the files the copy lacks. Counted in
 * bytes on a 20,000-file context, through a real server; and the copy's
 * writer confined to its tree whatever the list says.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { tempDir } from '../../test/support/fixtures.js';
import { ContextStore } from '../src/context-sync.js';
import { ByteReader, END_FRAME, jsonFrame } from '../src/wire.js';
import { remoteBuild, startTestServer, writeContext, type ServerEnv } from './server-support.js';

describe('context transfer: only what changed goes up', function () {
  this.timeout(600_000);
  let s: ServerEnv;
  before(async () => {
    s = await startTestServer('tsbuild-ctx-sync-');
  });
  after(async () => {
    await s?.close();
  });

  it('a one-file change to a 20,000-file context uploads that one file', async () => {
    const context = join(s.env.dir, 'big');
    const files: Record<string, string> = { Dockerfile: 'FROM busybox:latest\nCOPY src/d42/f00042.txt /picked.txt\n', '.dockerignore': 'ignored/\n' };
    for (let i = 0; i < 20_000; i++) files[`src/d${String(i % 50).padStart(2, '0')}/f${String(i).padStart(5, '0')}.txt`] = `file ${i}\n`.repeat(8);
    for (let i = 0; i < 100; i++) files[`ignored/junk-${i}`] = 'x'.repeat(1000);
    writeContext(context, files);
    let t0 = performance.now();
    const first = await remoteBuild({ context, outputs: [{ type: 'local', dest: join(s.env.dir, 'big-out-1') }] }, s.unix);
    expect(first.upload.files).to.equal(20_002); // 20,000 files, the Dockerfile and the .dockerignore; ignored/ stays home
    const changed = 'changed, and longer than before: '.repeat(30);
    writeFileSync(join(context, 'src/d42/f00042.txt'), changed);
    console.log(`      first build: ${first.upload.files} files, ${first.upload.bytes} bytes up, ${Math.round(performance.now() - t0)} ms`);
    t0 = performance.now();
    const second = await remoteBuild({ context, outputs: [{ type: 'local', dest: join(s.env.dir, 'big-out-2') }] }, s.unix);
    console.log(`      one file changed: ${second.upload.files} file, ${second.upload.bytes} bytes up, ${Math.round(performance.now() - t0)} ms`);
    expect(second.upload).to.deep.equal({ entries: first.upload.entries, files: 1, bytes: Buffer.byteLength(changed) });
    expect(readFileSync(join(s.env.dir, 'big-out-2', 'picked.txt'), 'utf8')).to.equal(changed);
    const third = await remoteBuild({ context }, s.unix);
    expect(third.upload.files).to.equal(0);
    expect(third.upload.bytes).to.equal(0);
    // A deleted file is deleted on the server too: COPY of it fails as it would locally.
    rmSync(join(context, 'src/d42/f00042.txt'));
    const err = await remoteBuild({ context }, s.unix).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/f00042\.txt/);
  });

  it('another client (another certificate) does not see or reuse a context copy it did not send', async () => {
    const context = writeContext(join(s.env.dir, 'mine'), { Dockerfile: 'FROM busybox:latest\nCOPY a.txt /a.txt\n', 'a.txt': 'alice\n' });
    const alice = await remoteBuild({ context }, s.tcp('alice'), { contextId: 'shared-name' });
    const bob = await remoteBuild({ context }, s.tcp('bob'), { contextId: 'shared-name' });
    expect(alice.upload.files).to.equal(2);
    expect(bob.upload.files).to.equal(2);
  });
});

describe('context copy: hostile lists and uploads stay inside the copy', () => {
  let t: ReturnType<typeof tempDir>;
  let store: ContextStore;
  let outside: string;
  beforeEach(() => {
    t = tempDir('tsbuild-ctx-hostile-');
    store = new ContextStore(join(t.path, 'contexts'));
    outside = join(t.path, 'outside');
    mkdirSync(outside);
  });
  afterEach(() => t.cleanup());

  const entry = (path: string, type: 'file' | 'dir' | 'symlink' = 'file', extra: object = {}) => ({ path, type, mode: 0o644, uid: 0, gid: 0, size: 0, mtimeMs: 1, ...extra });

  for (const path of ['../escape.txt', '/etc/escape.txt', 'a/../../escape.txt', 'a//b', './a', '', 'x\0y']) {
    it(`refuses the path ${JSON.stringify(path)}`, async () => {
      const ctx = await store.acquire('client', 'ctx');
      try {
        const err = await ctx.plan([entry(path)]).then(() => undefined, (e: Error) => e);
        expect(err?.message).to.match(/clean relative path/);
      } finally {
        ctx.release();
      }
    });
  }

  it('never writes through a symlink the list made, even one pointing outside', async () => {
    const ctx = await store.acquire('client', 'ctx');
    try {
      const list = [entry('link', 'symlink', { target: outside }), entry('link/pwned.txt', 'file', { size: 5 })];
      const need = await ctx.plan(list);
      expect(need).to.deep.equal([1]);
      const body = Buffer.concat([jsonFrame(list[1]), Buffer.from('owned'), END_FRAME]);
      const err = await ctx.receive(new ByteReader(Readable.from([body])), { frame: 65536 }).then(() => undefined, (e: Error) => e);
      expect(err?.message).to.match(/not a directory/);
      expect(existsSync(join(outside, 'pwned.txt'))).to.equal(false);
    } finally {
      ctx.release();
    }
  });

  it('a file sent in place of the one asked for, or a truncated one, is refused and asked for again', async () => {
    const ctx = await store.acquire('client', 'ctx');
    const wanted = entry('a.txt', 'file', { size: 10 });
    try {
      expect(await ctx.plan([wanted])).to.deep.equal([0]);
      const other = Buffer.concat([jsonFrame(entry('b.txt', 'file', { size: 1 })), Buffer.from('b'), END_FRAME]);
      expect(await ctx.receive(new ByteReader(Readable.from([other])), { frame: 65536 }).then(() => '', (e: Error) => e.message)).to.match(/expected "a.txt"/);
    } finally {
      ctx.release();
    }
    const again = await store.acquire('client', 'ctx');
    try {
      expect(await again.plan([wanted])).to.deep.equal([0]);
      const truncated = Buffer.concat([jsonFrame(wanted), Buffer.from('only4')]);
      expect(await again.receive(new ByteReader(Readable.from([truncated])), { frame: 65536 }).then(() => '', (e: Error) => e.message)).to.match(/truncated/);
    } finally {
      again.release();
    }
    const third = await store.acquire('client', 'ctx');
    try {
      expect(await third.plan([wanted])).to.deep.equal([0]); // the half-written file is not trusted
    } finally {
      third.release();
    }
  });

  it('a symlink already in the copy is replaced, not followed, when the path becomes a file', async () => {
    writeFileSync(join(outside, 'victim.txt'), 'safe');
    const ctx = await store.acquire('client', 'ctx');
    try {
      await ctx.plan([entry('v.txt', 'symlink', { target: join(outside, 'victim.txt') })]);
    } finally {
      ctx.release();
    }
    const next = await store.acquire('client', 'ctx');
    try {
      const file = entry('v.txt', 'file', { size: 5 });
      expect(await next.plan([file])).to.deep.equal([0]);
      await next.receive(new ByteReader(Readable.from([Buffer.concat([jsonFrame(file), Buffer.from('owned'), END_FRAME])])), { frame: 65536 });
      expect(readFileSync(join(outside, 'victim.txt'), 'utf8')).to.equal('safe');
      expect(readFileSync(join(next.tree, 'v.txt'), 'utf8')).to.equal('owned');
    } finally {
      next.release();
    }
  });

  it('a symlinked directory in the copy is not walked into when its old children are removed', async () => {
    writeFileSync(join(outside, 'keep.txt'), 'keep');
    const ctx = await store.acquire('client', 'ctx');
    try {
      await ctx.plan([entry('d', 'dir', { mode: 0o755 })]);
    } finally {
      ctx.release();
    }
    const next = await store.acquire('client', 'ctx');
    try {
      // Someone replaced the directory with a link behind the server's back: removal must not follow it.
      rmSync(join(next.tree, 'd'), { recursive: true });
      symlinkSync(outside, join(next.tree, 'd'));
      await next.plan([]);
      expect(existsSync(join(outside, 'keep.txt'))).to.equal(true);
    } finally {
      next.release();
    }
  });
});
