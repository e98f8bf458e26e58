import { expect } from 'chai';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { checksumContext, openChecksumCache, createMemoryChecksumCache } from '@tsbuild/builder';
import { tempDir } from '../../test/support/fixtures.js';

describe('ChecksumCache', () => {
  let tmp: ReturnType<typeof tempDir>;
  let ctx: string;
  let cacheDir: string;
  beforeEach(() => {
    tmp = tempDir();
    ctx = join(tmp.path, 'ctx');
    cacheDir = join(tmp.path, 'cache/checksums');
    mkdirSync(join(ctx, 'src'), { recursive: true });
    for (let i = 0; i < 50; i++) writeFileSync(join(ctx, 'src', `f${i}.txt`), `content ${i}\n`);
  });
  afterEach(() => tmp.cleanup());

  it('a second build with a reopened cache reads no file contents', async () => {
    const first = await openChecksumCache({ dir: cacheDir, contextDir: ctx });
    const a = await checksumContext({ contextDir: ctx, patterns: ['src'], cache: first });
    expect(first.stats.hashed).to.equal(50);
    await first.save();
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.json'))).to.have.length(1);
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.tmp'))).to.have.length(0);

    const second = await openChecksumCache({ dir: cacheDir, contextDir: ctx });
    const b = await checksumContext({ contextDir: ctx, patterns: ['src'], cache: second });
    expect(b.digest).to.equal(a.digest);
    expect(second.stats.hashed).to.equal(0);
    expect(second.stats.hits).to.equal(50);
  });

  it('memoizes within one build: several COPYs of one context hash each file once', async () => {
    const cache = createMemoryChecksumCache();
    await Promise.all([
      checksumContext({ contextDir: ctx, patterns: ['src'], cache }),
      checksumContext({ contextDir: ctx, patterns: ['src/f1*.txt'], cache }),
      checksumContext({ contextDir: ctx, patterns: ['.'], cache }),
    ]);
    expect(cache.stats.hashed).to.equal(50);
  });

  it('detects an ordinary edit (new content, new mtime) and rehashes only that file', async () => {
    const first = await openChecksumCache({ dir: cacheDir, contextDir: ctx });
    const a = await checksumContext({ contextDir: ctx, patterns: ['src'], cache: first });
    await first.save();
    writeFileSync(join(ctx, 'src/f7.txt'), 'content X\n'); // same size, new mtime
    const second = await openChecksumCache({ dir: cacheDir, contextDir: ctx });
    const b = await checksumContext({ contextDir: ctx, patterns: ['src'], cache: second });
    expect(b.digest).to.not.equal(a.digest);
    expect(second.stats.hashed).to.equal(1);
  });

  it('sees an edit that keeps size and inode and restores the mtime (ctime is in the key; BuildKit would miss it)', async () => {
    const file = join(ctx, 'src/f3.txt');
    const when = new Date('2020-01-01T00:00:00Z'); // whole seconds: utimes restores it exactly
    utimesSync(file, when, when);
    const cache = createMemoryChecksumCache();
    const a = await checksumContext({ contextDir: ctx, patterns: ['src/f3.txt'], cache });
    const ino = statSync(file).ino;
    writeFileSync(file, 'content Z\n');
    utimesSync(file, when, when);
    expect(statSync(file).ino).to.equal(ino);
    const b = await checksumContext({ contextDir: ctx, patterns: ['src/f3.txt'], cache });
    expect(cache.stats.hashed).to.equal(2);
    expect(b.digest).to.not.equal(a.digest);
    const fresh = await checksumContext({ contextDir: ctx, patterns: ['src/f3.txt'] });
    expect(b.digest).to.equal(fresh.digest);
  });

  it('a corrupt cache file is an empty cache, not an error', async () => {
    const first = await openChecksumCache({ dir: cacheDir, contextDir: ctx });
    await checksumContext({ contextDir: ctx, patterns: ['src'], cache: first });
    await first.save();
    const [name] = readdirSync(cacheDir);
    writeFileSync(join(cacheDir, name!), '{not json');
    const again = await openChecksumCache({ dir: cacheDir, contextDir: ctx });
    await checksumContext({ contextDir: ctx, patterns: ['src'], cache: again });
    expect(again.stats.hashed).to.equal(50);
  });

  it('keeps contexts apart: another context dir has its own file', async () => {
    const other = join(tmp.path, 'other');
    mkdirSync(other);
    writeFileSync(join(other, 'x'), 'x');
    const c1 = await openChecksumCache({ dir: cacheDir, contextDir: ctx });
    await checksumContext({ contextDir: ctx, patterns: ['src'], cache: c1 });
    await c1.save();
    const c2 = await openChecksumCache({ dir: cacheDir, contextDir: other });
    await checksumContext({ contextDir: other, patterns: ['x'], cache: c2 });
    await c2.save();
    expect(readdirSync(cacheDir)).to.have.length(2);
  });
  it('keeps checksums per hash mode: switching modes, chmod, chown and a retargeted link give what a cold run gives', async () => {
    symlinkSync('f1.txt', join(ctx, 'src/link'));
    const fresh = async (mode: 'exact' | 'content') => (await checksumContext({ contextDir: ctx, patterns: ['src'], mode })).digest;
    const warm = async (mode: 'exact' | 'content') => {
      const cache = await openChecksumCache({ dir: cacheDir, contextDir: ctx });
      const r = await checksumContext({ contextDir: ctx, patterns: ['src'], mode, cache });
      await cache.save();
      return { digest: r.digest, hashed: cache.stats.hashed };
    };
    expect((await warm('exact')).digest).to.equal(await fresh('exact'));
    expect(await warm('content'), 'the other mode reuses the content digests').to.deep.equal({ digest: await fresh('content'), hashed: 0 });
    expect(await warm('exact')).to.deep.equal({ digest: await fresh('exact'), hashed: 0 });
    chmodSync(join(ctx, 'src/f2.txt'), 0o600);
    chownSync(join(ctx, 'src/f3.txt'), 4321, 8765);
    chmodSync(join(ctx, 'src'), 0o700);
    rmSync(join(ctx, 'src/link'));
    symlinkSync('f2.txt', join(ctx, 'src/link'));
    const exact = await warm('exact');
    expect(exact.digest).to.equal(await fresh('exact'));
    expect(exact.hashed, 'a changed ctime rehashes only the files it touched').to.equal(2);
    expect((await warm('content')).digest).to.equal(await fresh('content'));
  });

  it('reads an old or torn cache file as an empty cache', async () => {
    const first = await openChecksumCache({ dir: cacheDir, contextDir: ctx });
    const a = await checksumContext({ contextDir: ctx, patterns: ['src'], cache: first });
    await first.save();
    const [name] = readdirSync(cacheDir);
    const file = join(cacheDir, name!);
    const body = readFileSync(file, 'utf8');
    for (const broken of [body.slice(0, body.length - 40), JSON.stringify({ version: 1, entries: {} }), '']) {
      writeFileSync(file, broken);
      const again = await openChecksumCache({ dir: cacheDir, contextDir: ctx });
      expect((await checksumContext({ contextDir: ctx, patterns: ['src'], cache: again })).digest).to.equal(a.digest);
      expect(again.stats.hashed).to.equal(50);
    }
  });

  it('does not rewrite the file when nothing changed', async () => {
    const first = await openChecksumCache({ dir: cacheDir, contextDir: ctx });
    await checksumContext({ contextDir: ctx, patterns: ['src'], cache: first });
    await first.save();
    const [name] = readdirSync(cacheDir);
    const before = statSync(join(cacheDir, name!));
    const second = await openChecksumCache({ dir: cacheDir, contextDir: ctx });
    await checksumContext({ contextDir: ctx, patterns: ['src'], cache: second });
    await second.save();
    const after = statSync(join(cacheDir, name!));
    expect([after.ino, after.mtimeMs]).to.deep.equal([before.ino, before.mtimeMs]);
  });

  it('lets the event loop run during a long walk, and a cancel stops it there', async () => {
    for (let d = 0; d < 10; d++) {
      mkdirSync(join(ctx, `many/d${d}`), { recursive: true });
      for (let i = 0; i < 100; i++) writeFileSync(join(ctx, `many/d${d}/f${i}`), `${d}/${i}`);
    }
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      await checksumContext({ contextDir: ctx, patterns: ['many'] });
    } finally {
      clearInterval(timer);
    }
    expect(ticks, 'timers fired while 1,000 files were checksummed').to.be.greaterThan(0);
    const controller = new AbortController();
    setImmediate(() => controller.abort());
    const err = await checksumContext({ contextDir: ctx, patterns: ['many'], signal: controller.signal }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).to.equal('CANCELED');
  });
});
