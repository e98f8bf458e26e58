/**
 * The executor conformance suite: every behaviour against a real runtime,
 * a real overlay rootfs and real mounts. Run once per runtime (crun, runc).
 */
import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { ExecError, formatOwner, isCanceled, isInvalidArgument } from '@tsbuild/core';
import { createExecutor, runOrThrow, type ExecRequest, type OciExecutor } from '@tsbuild/runtime';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { capture, freshOverlay, mountsUnder, processesWith, tree, type Overlay } from './helpers.js';

export function runExecutorSuite(runtime: 'crun' | 'runc'): void {
  describe(`OciExecutor with ${runtime}`, function () {
    this.timeout(60_000);
    let t: { path: string; cleanup: () => void };
    let lower: string;
    let executor: OciExecutor;

    before(async () => {
      t = tempDir(`tsbuild-rt-${runtime}-`);
      lower = makeBusyboxRootfs(join(t.path, 'lower'));
      executor = await createExecutor({
        runtime,
        stateDir: join(t.path, 'state'),
        bundleDir: join(t.path, 'bundles'),
        cacheMountsDir: join(t.path, 'cache-mounts'),
      });
    });

    afterEach(() => {
      // Every test must leave nothing behind: no mounts, no bundles, no runtime state.
      expect(mountsUnder(t.path), 'leftover mounts').to.deep.equal([]);
      // Bundles are made in this process's folder (owner-dirs.ts), which stays until exit.
      const bundles = join(t.path, 'bundles');
      expect(readdirSync(bundles).flatMap((owner) => readdirSync(join(bundles, owner))), 'leftover bundles').to.deep.equal([]);
      expect(readdirSync(join(t.path, 'state')).filter((n) => !n.startsWith('.')), 'leftover runtime state').to.deep.equal([]);
      expect(processesWith(join(t.path, 'state')), 'leftover runtime processes').to.deep.equal([]);
    });

    after(() => t?.cleanup());

    const request = (over: Partial<ExecRequest> & { args?: string[] } = {}): { req: ExecRequest; ov: Overlay } => {
      const ov = freshOverlay(t.path, lower);
      const { args, ...rest } = over;
      return {
        ov,
        req: { rootfs: [ov.mount], process: { args: args ?? ['true'], env: [], cwd: '/' }, mounts: [], network: 'none', ...rest },
      };
    };
    const sh = (script: string, over: Partial<ExecRequest> = {}) => request({ args: ['/bin/sh', '-c', script], ...over });

    describe('process', () => {
      it('runs the exec form as given', async () => {
        const r = await capture(executor, request({ args: ['echo', 'hello', 'world'] }).req);
        expect(r).to.include({ exitCode: 0, stdout: 'hello world\n' });
      });

      it('runs a shell form through the given shell', async () => {
        const r = await capture(executor, sh('echo $((40+2)) "$0"').req);
        expect(r.stdout).to.equal('42 /bin/sh\n');
      });

      it('passes env as given and defaults PATH only when absent', async () => {
        const { req } = sh('echo "$FOO|$PATH"');
        req.process.env = ['FOO=bar'];
        expect((await capture(executor, req)).stdout).to.equal('bar|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
        const own = sh('echo "$PATH"');
        own.req.process.env = ['PATH=/bin'];
        expect((await capture(executor, own.req)).stdout).to.equal('/bin\n');
      });

      it('propagates exit codes, and runOrThrow turns them into ExecError with the output tail', async () => {
        expect((await capture(executor, sh('exit 3').req)).exitCode).to.equal(3);
        const { req } = sh('echo first; echo oops >&2; exit 7');
        let caught: unknown;
        await runOrThrow(executor, req).catch((e) => (caught = e));
        expect(caught).to.be.instanceOf(ExecError);
        expect((caught as ExecError).exitCode).to.equal(7);
        expect((caught as ExecError).command).to.deep.equal(req.process.args);
        expect((caught as ExecError).outputTail).to.contain('oops');
      });

      it('feeds stdin when given', async () => {
        const r = await capture(executor, request({ args: ['cat'] }).req, { stdin: Readable.from([Buffer.from('piped in\n')]) });
        expect(r.stdout).to.equal('piped in\n');
      });

      it('creates a missing workdir as root 0755 and runs in it (it belongs in the layer)', async () => {
        const { req, ov } = sh('pwd; echo hi > here', { process: { args: [], env: [], cwd: '/a/b/c', user: 'tester' } });
        req.process.args = ['/bin/sh', '-c', 'pwd; touch /tmp/ok'];
        const r = await capture(executor, req);
        expect(r.stdout).to.equal('/a/b/c\n');
        const st = statSync(join(ov.upper, 'a/b/c'));
        expect(st.mode & 0o7777).to.equal(0o755);
        expect(st.uid).to.equal(0);
      });

      it('sets the hostname and umask', async () => {
        const { req } = sh('hostname; cat /etc/hostname; umask', { hostname: 'stepbox' });
        expect((await capture(executor, req)).stdout).to.equal('stepbox\nstepbox\n0022\n');
      });
      it('runs on a plain directory bound as rootfs and leaves it as the process left it', async () => {
        const dir = join(t.path, 'plain-rootfs');
        cpSync(lower, dir, { recursive: true, verbatimSymlinks: true });
        const before = tree(dir);
        const r = await capture(executor, { rootfs: [{ type: 'bind', source: dir, options: ['rbind'] }], process: { args: ['/bin/sh', '-c', 'echo ok > /made; cat /etc/hostname'], env: [], cwd: '/' }, mounts: [{ type: 'secret', id: 'k', data: Buffer.from('x') }], network: 'none' });
        expect(r.stdout).to.equal('buildkitsandbox\n');
        expect(tree(dir)).to.deep.equal([...before, 'made'].sort());
      });

      it('refuses a container id that is already running, without disturbing it', async () => {
        const controller = new AbortController();
        const first = executor.run({ ...sh('sleep 2').req, id: 'dup-id' }, { signal: controller.signal }).catch((e) => e);
        await new Promise((r) => setTimeout(r, 300));
        let caught: unknown;
        await executor.run({ ...sh('true').req, id: 'dup-id' }).catch((e) => (caught = e));
        expect((caught as { code?: string }).code).to.equal('RUNTIME_ID_IN_USE');
        expect(existsSync(join(t.path, 'bundles', formatOwner(), 'dup-id', 'config.json'))).to.equal(true);
        controller.abort();
        expect(isCanceled(await first)).to.equal(true);
      });
    });

    describe('user', () => {
      const idOf = async (user: string) => {
        const { req } = request({ args: ['id'] });
        req.process.user = user;
        return (await capture(executor, req)).stdout.trim();
      };
      it('name → passwd uid/gid plus supplementary groups from /etc/group', async () => {
        expect(await idOf('tester')).to.equal('uid=1000(tester) gid=1000(tester) groups=1000(tester),2000(extra)');
      });
      it('uid, name:group and uid:gid forms', async () => {
        expect(await idOf('1000')).to.equal('uid=1000(tester) gid=1000(tester) groups=1000(tester),2000(extra)');
        expect(await idOf('tester:extra')).to.equal('uid=1000(tester) gid=2000(extra) groups=2000(extra)');
        expect(await idOf('65534:2000')).to.equal('uid=65534(nobody) gid=2000(extra) groups=2000(extra)');
      });
      it('a numeric uid absent from passwd runs with gid 0', async () => {
        expect(await idOf('4242')).to.equal('uid=4242 gid=0(root) groups=0(root)');
      });
      it('an unknown user name is a typed error and leaves nothing behind', async () => {
        const { req } = request({ args: ['id'] });
        req.process.user = 'nosuchuser';
        let caught: unknown;
        await executor.run(req).catch((e) => (caught = e));
        expect(isInvalidArgument(caught)).to.equal(true);
      });
    });

    describe('isolation', () => {
      it('network none has only lo', async () => {
        expect((await capture(executor, sh('ls /sys/class/net').req)).stdout.split(/\s+/).filter(Boolean)).to.deep.equal(['lo']);
      });
      it("host network shares the host's interfaces", async () => {
        const r = await capture(executor, sh('ls /sys/class/net', { network: 'host' }).req);
        expect(r.stdout.split(/\s+/).filter(Boolean).sort()).to.deep.equal(readdirSync('/sys/class/net').sort());
      });
      it("has docker's default capabilities only, and all of them when insecure", async () => {
        const capEff = async (security: 'sandbox' | 'insecure') =>
          (await capture(executor, sh('grep CapEff /proc/self/status | cut -f2', { security }).req)).stdout.trim();
        expect(await capEff('sandbox')).to.equal('00000000a80425fb');
        expect(BigInt(`0x${await capEff('insecure')}`) > 0xa80425fbn).to.equal(true);
      });
      it('masks /proc/timer_list, keeps /proc/sys and /sys read-only, and has the usual /dev nodes', async () => {
        const r = await capture(executor, sh(
          'wc -c < /proc/timer_list; touch /sys/x 2>/dev/null || echo sys-ro; echo 1 > /proc/sys/kernel/ostype 2>/dev/null || echo procsys-ro; ' +
          'for d in null zero full random urandom tty ptmx pts shm mqueue; do [ -e /dev/$d ] && printf "%s " $d; done',
        ).req);
        expect(r.stdout).to.equal('0\nsys-ro\nprocsys-ro\nnull zero full random urandom tty ptmx pts shm mqueue ');
      });
      it('provides /etc/hosts and /etc/resolv.conf', async () => {
        const r = await capture(executor, sh('cat /etc/hosts; grep -c nameserver /etc/resolv.conf', { extraHosts: [{ host: 'reg.local', ip: '10.1.2.3' }] }).req);
        expect(r.stdout).to.match(/127\.0\.0\.1\tlocalhost buildkitsandbox/).and.match(/10\.1\.2\.3\treg\.local/).and.match(/^[1-9]\d*$/m);
      });
    });

    describe('RUN --mount', () => {
      it('bind is read-only by default', async () => {
        const src = join(t.path, 'ro-src');
        mkdirSync(src, { recursive: true });
        writeFileSync(join(src, 'f'), 'content\n');
        const r = await capture(executor, sh('cat /src/f; echo x > /src/g 2>/dev/null || echo read-only', { mounts: [{ type: 'bind', source: src, target: '/src' }] }).req);
        expect(r.stdout).to.equal('content\nread-only\n');
        expect(readdirSync(src)).to.deep.equal(['f']);
      });
      it('bind rw: writes are visible during the step and discarded afterwards', async () => {
        const src = join(t.path, 'rw-src');
        mkdirSync(src, { recursive: true });
        writeFileSync(join(src, 'f'), 'orig');
        const r = await capture(executor, sh('echo changed > /src/f; echo new > /src/n; cat /src/f /src/n', { mounts: [{ type: 'bind', source: src, target: '/src', readonly: false }] }).req);
        expect(r.stdout).to.equal('changed\nnew\n');
        expect(readFileSync(join(src, 'f'), 'utf8')).to.equal('orig');
        expect(readdirSync(src)).to.deep.equal(['f']);
      });
      it('cache persists across runs and is created with uid/gid/mode', async () => {
        const m = { type: 'cache' as const, id: 'persist', target: '/cache', uid: 1000, gid: 2000, mode: 0o750 };
        await capture(executor, sh('echo one >> /cache/log', { mounts: [m] }).req);
        const r = await capture(executor, sh('echo two >> /cache/log; cat /cache/log; stat -c "%u %g %a" /cache', { mounts: [m] }).req);
        expect(r.stdout).to.equal('one\ntwo\n1000 2000 750\n');
      });
      it('cache sharing=private gives concurrent steps separate directories; shared gives one', async () => {
        const both = async (sharing: 'private' | 'shared', id: string) => {
          const step = (name: string) => capture(executor, sh(`touch /c/${name}; sleep 0.6; ls /c | tr '\\n' ' '`, { mounts: [{ type: 'cache', id, target: '/c', sharing }] }).req);
          return (await Promise.all([step('a'), step('b')])).map((r) => r.stdout.trim());
        };
        expect(await both('private', 'priv')).to.deep.equal(['a', 'b']);
        expect(await both('shared', 'shr')).to.deep.equal(['a b', 'a b']);
      });
      it('cache sharing=locked serializes concurrent steps (a read-modify-write counter never loses an update)', async () => {
        const m = { type: 'cache' as const, id: 'locked', target: '/c', sharing: 'locked' as const };
        const step = () => capture(executor, sh('n=$(cat /c/n 2>/dev/null || echo 0); sleep 0.3; echo $((n+1)) > /c/n; echo $n', { mounts: [m] }).req);
        const results = await Promise.all([step(), step(), step()]);
        expect(results.map((r) => r.stdout.trim()).sort()).to.deep.equal(['0', '1', '2']);
      });
      it('an abort while waiting for a locked cache cancels cleanly', async () => {
        const m = { type: 'cache' as const, id: 'lock-abort', target: '/c', sharing: 'locked' as const };
        const holder = executor.run(sh('sleep 1', { mounts: [m] }).req);
        await new Promise((r) => setTimeout(r, 300));
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 200);
        let caught: unknown;
        await executor.run(sh('true', { mounts: [m] }).req, { signal: controller.signal }).catch((e) => (caught = e));
        expect(isCanceled(caught)).to.equal(true);
        expect((await holder).exitCode).to.equal(0);
      });
      it('tmpfs with a size', async () => {
        const r = await capture(executor, sh("grep ' /scratch ' /proc/mounts | cut -d' ' -f3,4 | grep -o 'tmpfs.*size=[0-9]*k'; echo x > /scratch/f", { mounts: [{ type: 'tmpfs', target: '/scratch', size: 1 << 20 }] }).req);
        expect(r.stdout.trim()).to.match(/^tmpfs .*size=1024k$/);
      });
      it('secret is readable at /run/secrets/<id> with mode 0400 and never reaches the upper dir', async () => {
        const { req, ov } = sh('cat /run/secrets/token; echo; stat -c "%a %u %g" /run/secrets/token; stat -c "%a %u %g" /etc/npmrc', {
          mounts: [
            { type: 'secret', id: 'token', data: Buffer.from('s3cr3t') },
            { type: 'secret', id: 'npm', target: '/etc/npmrc', data: Buffer.from('x'), uid: 1000, gid: 1000, mode: 0o440 },
          ],
        });
        const r = await capture(executor, req);
        expect(r.stdout).to.equal('s3cr3t\n400 0 0\n440 1000 1000\n');
        expect(tree(ov.upper).filter((p) => p.startsWith('run') || p.includes('npmrc'))).to.deep.equal([]);
      });
      it('issue 13: a secret is never mounted or written on the host, during the run or after it is canceled', async () => {
        const secret = `issue13-secret-${process.pid}`;
        const { req } = sh('cat /run/secrets/token > /dev/null; echo started; sleep 5', { mounts: [{ type: 'secret', id: 'token', data: Buffer.from(secret) }] });
        const controller = new AbortController();
        let seen = '';
        const stdout = new Writable({ write(c: Buffer, _e, cb) { seen += c.toString(); cb(); } });
        const running = executor.run(req, { stdout, signal: controller.signal }).catch((e: unknown) => e);
        for (let i = 0; i < 100 && !seen.includes('started'); i++) await new Promise((r) => setTimeout(r, 50));
        expect(seen).to.include('started');
        // Mid-run: the host's mount table has no secrets tmpfs, and no file under the bundles holds the bytes.
        expect(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes('/secrets'))).to.deep.equal([]);
        expect(grepTree(join(t.path, 'bundles'), secret)).to.deep.equal([]);
        controller.abort();
        await running;
        expect(grepTree(join(t.path, 'bundles'), secret)).to.deep.equal([]);
      });
      it('ssh binds the agent socket and sets SSH_AUTH_SOCK', async () => {
        const sock = join(t.path, 'agent.sock');
        const server: Server = createServer(() => undefined);
        await new Promise<void>((res) => server.listen(sock, res));
        try {
          const r = await capture(executor, sh('echo $SSH_AUTH_SOCK; [ -S "$SSH_AUTH_SOCK" ] && echo socket', { mounts: [{ type: 'ssh', socket: sock }] }).req);
          expect(r.stdout).to.equal('/run/buildkit/ssh_agent.0\nsocket\n');
        } finally {
          server.close();
        }
      });
      it('the upper dir holds only what the process wrote: no etc files, mount targets or stubs', async () => {
        const src = join(t.path, 'stub-src');
        mkdirSync(src, { recursive: true });
        const sock = join(t.path, 'agent2.sock');
        const server = createServer(() => undefined);
        await new Promise<void>((res) => server.listen(sock, res));
        try {
          const { req, ov } = sh('echo data > /written; mkdir -p /var/made', {
            mounts: [
              { type: 'bind', source: src, target: '/mnt/bind' },
              { type: 'bind', source: src, target: '/mnt/rw', readonly: false },
              { type: 'cache', id: 'stubs', target: '/root/.cache/x' },
              { type: 'tmpfs', target: '/tmp/t' },
              { type: 'secret', id: 's', data: Buffer.from('x') },
              { type: 'ssh', socket: sock },
            ],
          });
          await capture(executor, req);
          expect(tree(ov.upper)).to.deep.equal(['etc/', 'root/', 'tmp/', 'var/', 'var/made/', 'written']);
          // What remains of the stub parents are copied-up directories with unchanged metadata: the differ sees no change.
          for (const d of ['etc', 'root', 'tmp']) {
            const [a, b] = [lstatSync(join(ov.upper, d), { bigint: true }), lstatSync(join(lower, d), { bigint: true })];
            expect([a.mtimeNs, a.mode, a.uid], d).to.deep.equal([b.mtimeNs, b.mode, b.uid]);
          }
        } finally {
          server.close();
        }
      });
    });

    describe('output', () => {
      it('streams stdout and stderr in order as they come, before the process exits', async () => {
        const r = await capture(executor, sh('for i in 1 2 3; do echo out$i; sleep 0.1; echo err$i >&2; sleep 0.1; done; sleep 0.5').req);
        const lines = r.events.map((e) => `${e.stream}:${e.text.trim()}`);
        expect(lines).to.deep.equal(['out:out1', 'err:err1', 'out:out2', 'err:err2', 'out:out3', 'err:err3']);
        expect(r.endedAt - r.events[5]!.at).to.be.greaterThan(300);
        expect(r.endedAt - r.events[0]!.at).to.be.greaterThan(800);
      });
      it('clips output after outputLimitBytes with one notice while the process keeps running', async () => {
        const { req, ov } = sh('head -c 100000 /dev/zero | tr "\\0" a; echo more >&2; echo done > /finished', { outputLimitBytes: 1000 });
        const r = await capture(executor, req);
        expect(r.exitCode).to.equal(0);
        expect(r.stdout.match(/^a*/)![0]).to.have.length(1000);
        expect((r.stdout + r.stderr).match(/\[output clipped, log limit 1000B reached\]/g)).to.have.length(1);
        expect(r.stderr).to.not.contain('more');
        expect(readFileSync(join(ov.upper, 'finished'), 'utf8')).to.equal('done\n');
      });
    });

    describe('cancellation', () => {
      it('an abort kills the process tree, cleans up, and rejects with CanceledError', async () => {
        const marker = `tsbmark${Date.now()}`;
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 400);
        const started = Date.now();
        let caught: unknown;
        await executor.run(sh(`sleep 30 & sleep 30; : ${marker}`).req, { signal: controller.signal }).catch((e) => (caught = e));
        expect(isCanceled(caught)).to.equal(true);
        expect(Date.now() - started).to.be.lessThan(5000);
        expect(processesWith(marker)).to.deep.equal([]);
      });
      it('an already aborted signal rejects before anything is created', async () => {
        const controller = new AbortController();
        controller.abort();
        let caught: unknown;
        await executor.run(sh('true').req, { signal: controller.signal }).catch((e) => (caught = e));
        expect(isCanceled(caught)).to.equal(true);
      });
      it('100 steps with concurrency 4, a third aborted mid-way: no leftover mounts, state or processes', async function () {
        this.timeout(120_000);
        const marker = `tsbstress${Date.now()}`;
        const { default: PQueue } = await import('p-queue');
        const queue = new PQueue({ concurrency: 4 });
        const outcomes = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            queue.add(async () => {
              const abort = i % 3 === 0;
              const controller = new AbortController();
              const script = abort ? `sleep 5; : ${marker}` : `sleep 0.1; : ${marker}`;
              if (abort) setTimeout(() => controller.abort(), 50 + (i % 7) * 30);
              try {
                const r = await executor.run(sh(script).req, { signal: controller.signal });
                return r.exitCode === 0 ? 'ok' : `exit ${r.exitCode}`;
              } catch (err) {
                return isCanceled(err) ? 'canceled' : String(err);
              }
            }),
          ),
        );
        expect(outcomes.filter((o) => o === 'canceled')).to.have.length(34);
        expect(outcomes.filter((o) => o === 'ok')).to.have.length(66);
        expect(processesWith(marker)).to.deep.equal([]);
        expect(existsSync(join(t.path, 'state'))).to.equal(true);
      });
    });
  });
}

/** Regular files under `dir` whose bytes contain `needle`. */
function grepTree(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && readFileSync(p).includes(needle)) hits.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return hits;
}
