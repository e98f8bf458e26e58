/**
 * `tsbuild serve` and `tsbuild build --server` as a user runs them: the
 * server is the real binary in its own process (so it can be SIGKILLed), the
 * client the CLI in-process. Same progress rendering and result files as a
 * local build; a killed server leaves a store fsck passes, restarts and
 * serves, and its client gets an error rather than a hang.
 */
import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { startServe, until, withEnv, type ServeProcess } from './serve-support.js';
import { tsbuild } from './support.js';

describe('tsbuild serve and build --server', function () {
  this.timeout(300_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  let sock: string;
  let server: ServeProcess | undefined;

  const start = async () => {
    server = await startServe(root, sock);
  };
  const stop = async () => server?.stop();

  before(async () => {
    tmp = tempDir('tsbuild-serve-');
    root = join(tmp.path, 'store');
    sock = join(tmp.path, 'run', 'tsbuild.sock');
    const imported = await tsbuild(root, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'busybox:latest');
    expect(imported.code, imported.stderr).to.equal(0);
    await start();
  });
  after(async () => {
    await stop();
    tmp.cleanup();
  });

  it('refuses to listen on TCP without mutual TLS', async () => {
    const r = await tsbuild(root, 'serve', '--addr', 'tcp://127.0.0.1:0');
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/needs mutual TLS/);
  });

  it('--gc-keep-storage takes a size (docker\'s units) and refuses anything else before listening', async () => {
    const r = await tsbuild(root, 'serve', '--addr', `unix://${join(tmp.path, 'run', 'gc.sock')}`, '--gc-keep-storage', 'lots');
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--gc-keep-storage: invalid size "lots"/);
    expect(existsSync(join(tmp.path, 'run', 'gc.sock'))).to.equal(false);
  });

  it('renders progress as a local build does, writes --iidfile/--metadata-file, streams -o type=tar back; the digest equals a local --no-cache build', async () => {
    const ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox:latest\nCOPY a.txt /a.txt\nRUN echo "remote-$((6*7))" && cp /a.txt /b.txt\n');
    writeFileSync(join(ctx, 'a.txt'), 'hello\n');
    const env = { SOURCE_DATE_EPOCH: '0' };
    const iid = join(tmp.path, 'iid');
    const meta = join(tmp.path, 'meta.json');
    const tar = join(tmp.path, 'out.tar');
    const remote = await withEnv(env, () => tsbuild(root, 'build', '--server', `unix://${sock}`, '--progress', 'plain', '--iidfile', iid, '--metadata-file', meta, '-o', `type=tar,dest=${tar}`, ctx));
    expect(remote.code, remote.stderr).to.equal(0);
    expect(remote.stderr).to.match(/^#1 \[1\/3\] FROM busybox:latest/m);
    expect(remote.stderr).to.match(/^#\d+ \d+\.\d+ remote-42$/m);
    expect(remote.stderr).to.match(/FINISHED in \d+\.\ds: 3 steps/);
    expect(readFileSync(iid, 'utf8')).to.match(/^sha256:[0-9a-f]{64}$/);
    const remoteMeta = JSON.parse(readFileSync(meta, 'utf8'));
    expect(remoteMeta['containerimage.config.digest']).to.equal(readFileSync(iid, 'utf8'));
    expect(existsSync(tar)).to.equal(true);
    await stop();
    const local = await withEnv(env, () => tsbuild(root, 'build', '--no-cache', '--progress', 'plain', '--metadata-file', meta, ctx));
    expect(local.code, local.stderr).to.equal(0);
    expect(JSON.parse(readFileSync(meta, 'utf8'))['containerimage.digest']).to.equal(remoteMeta['containerimage.digest']);
    await start();
  });

  it('a server SIGKILLed mid-build: the client gets an error, fsck passes, the server restarts and serves', async () => {
    const ctx = join(tmp.path, 'crash');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox:latest\nRUN echo step-running && sleep 120\n');
    const { build } = await import('../src/api.js');
    let running = false;
    const t0 = Date.now();
    const pending = build({ context: ctx, server: `unix://${sock}`, onEvent: (e) => { if (e.type === 'vertex.log' && e.data.includes('step-running')) running = true; } })
      .then(() => undefined, (e: Error) => e);
    await until(() => running, 'the step to run');
    server!.child.kill('SIGKILL');
    const err = await pending;
    expect(err?.message).to.match(/build server/);
    expect(Date.now() - t0).to.be.below(60_000);
    // The next command reclaims what the dead server left (its container, mounts, lease); fsck then finds the store intact.
    await start();
    const fsck = await tsbuild(root, 'fsck');
    expect(fsck.code, fsck.stdout + fsck.stderr).to.equal(0);
    expect(processesRunning('sleep\u0000120')).to.deep.equal([]);
    const after = join(tmp.path, 'after-crash');
    mkdirSync(after, { recursive: true });
    writeFileSync(join(after, 'Dockerfile'), 'FROM busybox:latest\nRUN echo served-again\n');
    const again = await tsbuild(root, 'build', '--server', `unix://${sock}`, '--progress', 'plain', after);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stderr).to.match(/served-again/);
  });
});

/** Command lines (NUL-separated, as in /proc) of live processes containing `text`. */
function processesRunning(text: string): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  }).filter((c) => c.includes(text));
}
