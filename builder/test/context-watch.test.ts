/**
 * The context watcher, for real: inotify, one detached daemon process per
 * store watching each registered root, unix sockets, the memo in a store directory. Every answer is checked
 * against a fresh walk (checksumContext without any memo or cache): a memo
 * hit that differs from a walk is a wrong build.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, chmodSync, existsSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { checksumContext, createMemoryChecksumCache, openChecksumCache } from '../src/context/index.js';
import { ContextSession, ContextWatchClient, contextWatchUsable, queryContextWatch } from '../src/context/watch/index.js';
import { createMatcher } from '@tsbuild/dockerfile';
import { daemonPids, stopDaemons, until } from '../../test/support/watch-daemons.js';

describe('context watcher', function () {
  this.timeout(60_000);
  let dir: string;
  let store: string;
  let ctx: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-ctxwatch-'));
    store = join(dir, 'store');
    ctx = join(dir, 'ctx');
    mkdirSync(join(ctx, 'src/deep'), { recursive: true });
    mkdirSync(store);
    writeFileSync(join(ctx, 'a.txt'), 'a');
    writeFileSync(join(ctx, 'src/b.txt'), 'b');
    writeFileSync(join(ctx, 'src/deep/c.txt'), 'c');
  });

  afterEach(async () => {
    await stopDaemons(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (idleMs?: number) => ContextWatchClient.for({ contextDir: ctx, storeRoot: store, env: {}, ...(idleMs ? { idleMs } : {}) })!;

  /** A build's session: a new one each time, as each build makes its own. */
  const session = (watch = client()) =>
    new ContextSession({ storeRoot: store, contextDir: ctx, watch, openCache: () => openChecksumCache({ dir: join(store, 'cache/checksums'), contextDir: ctx }) });

  const fresh = async (patterns = ['.'], extra: { ignore?: ReturnType<typeof createMatcher>; mode?: 'exact' | 'content' } = {}) =>
    (await checksumContext({ contextDir: ctx, patterns, cache: createMemoryChecksumCache(), ...extra })).digest;

  /** One "build": checksum through a new session (and save it, like a build). */
  const viaSession = async (patterns = ['.'], extra: { ignore?: ReturnType<typeof createMatcher>; mode?: 'exact' | 'content' } = {}) => {
    const s = session();
    const sum = await s.checksum({ contextDir: ctx, patterns, ...extra });
    await s.save();
    return { digest: sum.digest, files: sum.files, hits: s.stats.memoHits, walks: s.stats.walks };
  };

  /** Starts the daemon and waits until it answers ready. */
  const ready = async () => {
    const c = client();
    c.start();
    const end = Date.now() + 10_000;
    for (;;) {
      const st = await c.state(300);
      if (st) return st;
      if (Date.now() > end) throw new Error('daemon never ready');
    }
  };

  it('reuses the results for an unchanged context, with the files map readable on demand', async () => {
    await ready();
    const first = await viaSession();
    expect(first.walks).to.equal(1);
    const second = await viaSession();
    expect(second).to.include({ hits: 1, walks: 0, digest: first.digest });
    expect({ ...second.files }).to.deep.equal({ ...first.files });
    expect(Object.keys(second.files)).to.include('src/deep/c.txt');
    // Another selection is its own memo entry.
    const sub = await viaSession(['src']);
    expect(sub.walks).to.equal(1);
    expect((await viaSession(['src'])).hits).to.equal(1);
    expect((await viaSession()).hits).to.equal(1);
  });

  it('sees every change, with no pause between the write and the next build (200 rounds)', async () => {
    await ready();
    await viaSession();
    const files = ['a.txt', 'src/b.txt', 'src/deep/c.txt'];
    for (let i = 0; i < 200; i++) {
      const f = files[i % files.length]!;
      // Same size each time: only the content differs.
      writeFileSync(join(ctx, f), String(i % 10));
      if (i % 7 === 0) chmodSync(join(ctx, f), i % 2 ? 0o755 : 0o644);
      const got = await viaSession();
      expect(got.digest, `round ${i}`).to.equal(await fresh());
      expect(got.walks, `round ${i} must walk`).to.equal(1);
    }
    expect((await viaSession()).hits).to.equal(1);
  });

  it('a new directory and files created right after it are seen, and later edits inside it too', async () => {
    await ready();
    await viaSession();
    for (let i = 0; i < 20; i++) {
      mkdirSync(join(ctx, `new${i}/x/y`), { recursive: true });
      writeFileSync(join(ctx, `new${i}/x/y/f`), 'one');
      expect((await viaSession()).digest).to.equal(await fresh());
      writeFileSync(join(ctx, `new${i}/x/y/f`), 'two');
      expect((await viaSession()).digest).to.equal(await fresh());
      expect((await viaSession()).hits).to.equal(1);
    }
  });

  it('a directory renamed into the tree (and one renamed out, then changed) is handled', async () => {
    await ready();
    await viaSession();
    const outside = join(dir, 'outside');
    mkdirSync(join(outside, 'm/n'), { recursive: true });
    writeFileSync(join(outside, 'm/n/f'), 'out');
    renameSync(join(outside, 'm'), join(ctx, 'm'));
    expect((await viaSession()).digest).to.equal(await fresh());
    writeFileSync(join(ctx, 'm/n/f'), 'in!');
    expect((await viaSession()).digest).to.equal(await fresh());
    // Out and back in under another name, changed while outside.
    renameSync(join(ctx, 'm'), join(outside, 'm2'));
    expect((await viaSession()).digest).to.equal(await fresh());
    writeFileSync(join(outside, 'm2/n/f'), 'changed outside');
    renameSync(join(outside, 'm2'), join(ctx, 'src/m2'));
    expect((await viaSession()).digest).to.equal(await fresh());
    writeFileSync(join(ctx, 'src/m2/n/f'), 'again');
    expect((await viaSession()).digest).to.equal(await fresh());
    // A directory replaced by one of the same name.
    rmSync(join(ctx, 'src/deep'), { recursive: true });
    mkdirSync(join(ctx, 'src/deep'));
    writeFileSync(join(ctx, 'src/deep/c.txt'), 'new c');
    expect((await viaSession()).digest).to.equal(await fresh());
    writeFileSync(join(ctx, 'src/deep/c.txt'), 'NEW c');
    expect((await viaSession()).digest).to.equal(await fresh());
    expect((await viaSession()).hits).to.equal(1);
  });

  it('symlinks and .dockerignore rules are part of the selection it memoizes', async () => {
    await ready();
    symlinkSync('src/b.txt', join(ctx, 'link'));
    const ignore = createMatcher(['src/deep']);
    const a = await viaSession(['.'], { ignore });
    expect(a.digest).to.equal(await fresh(['.'], { ignore }));
    // Other rules: another entry, not the first one's result.
    const b = await viaSession(['.'], { ignore: createMatcher(['a.txt']) });
    expect(b.walks).to.equal(1);
    expect(b.digest).to.equal(await fresh(['.'], { ignore: createMatcher(['a.txt']) }));
    const c = await viaSession(['.'], { ignore, mode: 'content' });
    expect(c.walks).to.equal(1);
    expect((await viaSession(['.'], { ignore })).hits).to.equal(1);
    rmSync(join(ctx, 'link'));
    symlinkSync('a.txt', join(ctx, 'link'));
    expect((await viaSession(['.'], { ignore })).digest).to.equal(await fresh(['.'], { ignore }));
  });

  it('within one build, a change between two checksums of the same selection is seen by the second', async () => {
    await ready();
    await viaSession(['src']);
    const s = session();
    const one = await s.checksum({ contextDir: ctx, patterns: ['src'] });
    expect(s.stats.memoHits).to.equal(1);
    writeFileSync(join(ctx, 'src/b.txt'), 'B');
    const two = await s.checksum({ contextDir: ctx, patterns: ['src'] });
    expect(two.digest).to.equal(await fresh(['src'])).and.not.equal(one.digest);
    await s.save();
    expect((await viaSession(['src'])).digest).to.equal(await fresh(['src']));
  });

  it('a name that is not valid UTF-8 makes the daemon give up (it could not name that tree back)', async () => {
    await ready();
    mkdirSync(Buffer.concat([Buffer.from(`${ctx}/src/`), Buffer.from([0x61, 0xff, 0x62])]));
    expect((await viaSession()).hits).to.equal(0);
    await until('the daemon to exit', () => daemonPids(dir).length === 0);
    // A new one refuses at start.
    const c = client();
    c.start();
    expect(await c.state(1500)).to.equal(undefined);
  });

  it('the root deleted and recreated: the daemon answers unknown and exits; builds walk and stay right', async () => {
    await ready();
    const first = await viaSession();
    expect(daemonPids(dir)).to.have.length(1);
    rmSync(ctx, { recursive: true });
    mkdirSync(join(ctx, 'src/deep'), { recursive: true });
    writeFileSync(join(ctx, 'a.txt'), 'A');
    writeFileSync(join(ctx, 'src/b.txt'), 'b');
    writeFileSync(join(ctx, 'src/deep/c.txt'), 'c');
    const got = await viaSession();
    expect(got.digest).to.equal(await fresh()).and.not.equal(first.digest);
    expect(got.hits).to.equal(0);
  });

  it('exits when its root is removed', async () => {
    await ready();
    expect(daemonPids(dir)).to.have.length(1);
    rmSync(ctx, { recursive: true });
    await until('the daemon to exit', () => daemonPids(dir).length === 0);
  });

  it('exits after its idle time without queries, and the next build starts another', async () => {
    const c = client(400);
    c.start();
    const st = await c.state(5000);
    expect(st).to.not.equal(undefined);
    await until('the idle daemon to exit', () => daemonPids(dir).length === 0, 5000);
    expect(existsSync(c.socketPath), 'its socket is removed').to.equal(false);
    const again = await ready();
    expect(again.id).to.not.equal(st!.id);
  });

  it('two clients at once share one daemon', async () => {
    const a = client();
    const b = client();
    a.start();
    b.start();
    const [sa, sb] = await Promise.all([a.state(5000), b.state(5000)]);
    const [sa2, sb2] = await Promise.all([a.state(), b.state()]);
    await new Promise((r) => setTimeout(r, 300));
    expect(daemonPids(dir), 'one daemon').to.have.length(1);
    expect(sa2!.id).to.equal(sb2!.id);
    expect([sa?.id, sb?.id].filter(Boolean).every((id) => id === sa2!.id)).to.equal(true);
    // Concurrent builds agree with a walk.
    const [x, y] = await Promise.all([viaSession(), viaSession()]);
    expect(x.digest).to.equal(y.digest).and.equal(await fresh());
  });

  it('a stale socket file of a dead daemon is replaced', async () => {
    const c = client();
    mkdirSync(join(store, 'run'), { recursive: true });
    // A socket nobody listens on.
    execFileSync(process.execPath, ['-e', `const s=require('net').createServer().listen(${JSON.stringify(c.socketPath)},()=>process.exit(0))`]);
    expect(existsSync(c.socketPath)).to.equal(true);
    expect(await queryContextWatch(c.socketPath, ctx)).to.equal('absent');
    expect(await ready()).to.have.property('id');
  });

  it('is not used on a filesystem other than ext2/3/4, xfs, btrfs, tmpfs (overlay), nor with TSBUILD_CONTEXT_WATCH=0', async function () {
    expect(contextWatchUsable(ctx, {})).to.equal(true);
    expect(ContextWatchClient.for({ contextDir: ctx, storeRoot: store, env: { TSBUILD_CONTEXT_WATCH: '0' } })).to.equal(undefined);
    expect(ContextWatchClient.for({ contextDir: ctx, storeRoot: store, env: {}, enabled: false })).to.equal(undefined);
    // No watcher: the session walks every time.
    const s = new ContextSession({ storeRoot: store, contextDir: ctx, watch: undefined, openCache: async () => createMemoryChecksumCache() });
    await s.checksum({ contextDir: ctx, patterns: ['.'] });
    expect(s.stats.walks).to.equal(1);

    const lower = join(dir, 'lower');
    const upper = join(dir, 'upper');
    const work = join(dir, 'work');
    const merged = join(dir, 'merged');
    for (const d of [lower, upper, work, merged]) mkdirSync(d);
    writeFileSync(join(lower, 'f'), 'x');
    // Root and overlayfs, as the whole suite assumes (scripts/test.sh): a failure to mount fails the test.
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, merged]);
    try {
      expect(contextWatchUsable(merged, {})).to.equal(false);
      expect(ContextWatchClient.for({ contextDir: merged, storeRoot: store, env: {} })).to.equal(undefined);
      // A mount appearing under a watched root: the daemon refuses from then on.
      const st = await ready();
      execFileSync('mount', ['--bind', merged, join(ctx, 'src')]);
      try {
        expect(await client().state(0)).to.equal(undefined);
        expect(daemonPids(dir).length === 0 || (await client().state(0)) === undefined).to.equal(true);
        expect(st.id).to.be.a('string');
      } finally {
        execFileSync('umount', [join(ctx, 'src')]);
      }
    } finally {
      execFileSync('umount', [merged]);
    }
  });

  describe('one daemon per store, many contexts', () => {
    const N = 30;
    const contexts = (): string[] =>
      Array.from({ length: N }, (_, i) => {
        const c = join(dir, `many/c${i}`);
        mkdirSync(join(c, 'sub'), { recursive: true });
        writeFileSync(join(c, 'sub/f'), String(i));
        return c;
      });

    /** What build.ts does: forBuild (nothing on a first build), start, then a session that checksums and saves. */
    const build = async (contextDir: string, env: NodeJS.ProcessEnv = {}) => {
      const watch = ContextWatchClient.forBuild({ contextDir, storeRoot: store, env });
      watch?.start();
      const s = new ContextSession({ storeRoot: store, contextDir, watch, openCache: async () => createMemoryChecksumCache() });
      const sum = await s.checksum({ contextDir, patterns: ['.'] });
      await s.save();
      expect(sum.digest).to.equal((await checksumContext({ contextDir, patterns: ['.'], cache: createMemoryChecksumCache() })).digest);
      return { watched: watch !== undefined, hits: s.stats.memoHits, walks: s.stats.walks };
    };

    /**
     * Until the daemon answers `ready` for the context. A build asks for at most 300 ms, then
     * walks; on a loaded machine the daemon may take longer to come up, so a test that expects
     * the next builds to hit waits here first (a test must not depend on the machine's speed).
     */
    const watching = async (contextDir: string): Promise<void> => {
      const end = Date.now() + 10_000;
      for (;;) {
        const answer = await queryContextWatch(join(store, 'run/watch.sock'), contextDir);
        if (answer !== undefined && answer !== 'absent' && answer.ready) return;
        if (Date.now() > end) throw new Error(`timed out waiting for the daemon to watch ${contextDir}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    it('30 contexts built once each start no watcher', async () => {
      for (const c of contexts()) expect((await build(c)).watched).to.equal(false);
      await new Promise((r) => setTimeout(r, 300));
      expect(daemonPids(dir)).to.have.length(0);
    });

    it('30 contexts built twice each share exactly one daemon, and a repeated build takes the fast path', async () => {
      const all = contexts();
      for (const c of all) await build(c);
      for (const c of all) expect((await build(c)).watched).to.equal(true);
      // A second daemon spawned while the first was still starting loses the bind and exits.
      await until('one daemon for the store', () => daemonPids(dir).length === 1);
      // The second build registered the context (and recorded a memo when the daemon was ready in time); from then on no walk.
      const c0 = all[0]!;
      await watching(c0);
      await build(c0);
      expect(await build(c0)).to.include({ hits: 1, walks: 0 });
      // A change is still seen.
      writeFileSync(join(c0, 'sub/f'), 'changed');
      expect(await build(c0)).to.include({ walks: 1 });
      expect(daemonPids(dir)).to.have.length(1);
    });

    it('a deleted context is dropped, and the daemon exits when it watches nothing', async () => {
      const [a, b] = contexts();
      for (const c of [a!, b!, a!, b!]) await build(c);
      await watching(a!);
      await watching(b!);
      for (const c of [a!, b!]) await build(c);
      expect(await build(a!)).to.include({ hits: 1 });
      // A second daemon spawned while the first was still starting loses the bind and exits.
      await until('one daemon', () => daemonPids(dir).length === 1);
      rmSync(a!, { recursive: true });
      // b is still served by the same daemon; a's answers are gone with it.
      expect(await build(b!)).to.include({ hits: 1 });
      expect(daemonPids(dir)).to.have.length(1);
      rmSync(b!, { recursive: true });
      await until('the daemon to exit once both contexts are gone', () => daemonPids(dir).length === 0);
    });

    it('keeps within its bounds: the least recently built context is evicted (and walks), a context too big alone is refused', async () => {
      const env = { TSBUILD_CONTEXT_WATCH_MAX_ROOTS: '2', TSBUILD_CONTEXT_WATCH_MAX_WATCHES: '40' };
      const [a, b, c, big] = contexts();
      for (const x of [a!, b!, a!, b!]) await build(x, env);
      await watching(a!);
      await watching(b!);
      for (const x of [a!, b!]) await build(x, env);
      expect(await build(a!, env)).to.include({ hits: 1 });
      expect(await build(b!, env)).to.include({ hits: 1 });
      // c makes three: a, the least recently built, goes.
      await build(c!, env);
      await build(c!, env);
      expect(await build(a!, env)).to.include({ hits: 0, walks: 1 });
      // a is back (b was evicted for it); builds stay right throughout.
      await watching(a!);
      await build(a!, env);
      expect(await build(a!, env)).to.include({ hits: 1 });
      // 50 directories pass the 40-watch bound alone: refused, always walks.
      for (let i = 0; i < 50; i++) mkdirSync(join(big!, `d${i}`));
      for (let i = 0; i < 4; i++) expect(await build(big!, env)).to.include({ hits: 0, walks: 1 });
      await until('one daemon', () => daemonPids(dir).length === 1);
      // Refused alone, it does not make builds start (and lose) another daemon each time.
      rmSync(a!, { recursive: true });
      rmSync(c!, { recursive: true });
      await new Promise((r) => setTimeout(r, 300));
      const pids = daemonPids(dir);
      expect(pids).to.have.length(1);
      for (let i = 0; i < 3; i++) expect(await build(big!, env)).to.include({ hits: 0, walks: 1 });
      await new Promise((r) => setTimeout(r, 300));
      expect(daemonPids(dir)).to.deep.equal(pids);
    });

    it('drops contexts idle past TSBUILD_CONTEXT_WATCH_IDLE_MS and then exits', async () => {
      const env = { TSBUILD_CONTEXT_WATCH_IDLE_MS: '400' };
      const [a] = contexts();
      await build(a!, env);
      await build(a!, env);
      await until('the daemon to start', () => daemonPids(dir).length === 1);
      await until('the idle daemon to exit', () => daemonPids(dir).length === 0, 5000);
      expect(existsSync(join(store, 'run/watch.sock')), 'its socket is removed').to.equal(false);
    });
  });
});
