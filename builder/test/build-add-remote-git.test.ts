/**
 * ADD <git url> end to end against a real `git daemon` on 127.0.0.1 serving
 * a repository the test makes (issue 5): a branch, a tag, `#ref:subdir`,
 * --keep-git-dir, mtimes set to the commit time; the key is the commit
 * `git ls-remote` resolves, so an unchanged branch hits and a new commit
 * rebuilds (explained).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createServer as createHttpServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { DockerfileError } from '@tsbuild/core';
import { eventsOf, makeBuildEnv, mountsUnder, type BuildEnv } from './build-support.js';

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.invalid',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.invalid',
};

function gitIn(cwd: string, args: string[], date?: number): string {
  const env = date === undefined ? GIT_ENV : { ...GIT_ENV, GIT_AUTHOR_DATE: `@${date} +0000`, GIT_COMMITTER_DATE: `@${date} +0000` };
  return execFileSync('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env, encoding: 'utf8' }).trim();
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

class GitDaemon {
  private proc: ChildProcess | undefined;
  port = 0;
  constructor(private readonly base: string) {}

  async start(): Promise<void> {
    this.port = await freePort();
    this.proc = spawn('git', ['daemon', '--export-all', '--reuseaddr', `--base-path=${this.base}`, '--listen=127.0.0.1', `--port=${this.port}`, this.base], {
      env: GIT_ENV,
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      try {
        execFileSync('git', ['ls-remote', `git://127.0.0.1:${this.port}/probe.git`], { env: GIT_ENV, stdio: 'ignore' });
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error('git daemon did not start');
  }

  url(repo: string): string {
    return `git://127.0.0.1:${this.port}/${repo}`;
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGTERM');
    await exited;
  }
}

/** git's smart HTTP: `git http-backend` behind a node:http CGI shim on 127.0.0.1. */
class GitHttp {
  private server: Server | undefined;
  port = 0;
  constructor(private readonly base: string) {}

  async start(): Promise<void> {
    this.server = createHttpServer((req, res) => {
      const [path, query = ''] = (req.url ?? '/').split('?') as [string, string?];
      const cgi = spawn('git', ['http-backend'], {
        env: {
          ...GIT_ENV, GIT_PROJECT_ROOT: this.base, GIT_HTTP_EXPORT_ALL: '1', PATH_INFO: path, QUERY_STRING: query,
          REQUEST_METHOD: req.method ?? 'GET', CONTENT_TYPE: req.headers['content-type'] ?? '', REMOTE_ADDR: '127.0.0.1',
          ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        },
        stdio: ['pipe', 'pipe', 'ignore'],
      });
      req.pipe(cgi.stdin!);
      let head = Buffer.alloc(0);
      let sent = false;
      cgi.stdout!.on('data', (chunk: Buffer) => {
        if (sent) return void res.write(chunk);
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const headers: Record<string, string> = {};
        let status = 200;
        for (const line of head.subarray(0, end).toString().split('\r\n')) {
          const [k, ...v] = line.split(':');
          if (k!.toLowerCase() === 'status') status = parseInt(v.join(':').trim(), 10);
          else headers[k!] = v.join(':').trim();
        }
        res.writeHead(status, headers);
        res.write(head.subarray(end + 4));
        sent = true;
      });
      cgi.stdout!.on('end', () => res.end());
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as { port: number }).port;
  }

  url(repo: string): string {
    return `http://127.0.0.1:${this.port}/${repo}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const T1 = 1_600_000_000;
const T2 = 1_700_000_000;

describe('build: ADD <git url>', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  let daemon: GitDaemon;
  let gitHttp: GitHttp;
  let work: string;
  let first: string;

  const commit = (files: Record<string, string>, message: string, date: number): string => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(work, path, '..'), { recursive: true });
      writeFileSync(join(work, path), content);
    }
    gitIn(work, ['add', '-A']);
    gitIn(work, ['commit', '-q', '-m', message], date);
    gitIn(work, ['push', '-q', 'origin', 'main']);
    return gitIn(work, ['rev-parse', 'HEAD']);
  };

  before(async () => {
    env = await makeBuildEnv('tsbuild-add-git-');
    const base = join(env.dir, 'git-base');
    mkdirSync(base, { recursive: true });
    gitIn(base, ['init', '-q', '--bare', 'probe.git']);
    gitIn(base, ['init', '-q', '--bare', 'proj.git']);
    work = join(env.dir, 'git-work');
    mkdirSync(work);
    gitIn(work, ['init', '-q']);
    gitIn(work, ['remote', 'add', 'origin', join(base, 'proj.git')]);
    first = commit({ 'README.md': 'v1\n', 'sub/inner.txt': 'inner v1\n', 'sub/deep/x.txt': 'x\n' }, 'first', T1);
    gitIn(work, ['tag', '-a', 'v1', '-m', 'release 1'], T1);
    gitIn(work, ['push', '-q', 'origin', 'v1']);
    commit({ 'README.md': 'v2\n' }, 'second', T2);
    daemon = new GitDaemon(base);
    await daemon.start();
    gitHttp = new GitHttp(base);
    await gitHttp.start();
  });
  after(async () => {
    await gitHttp?.stop();
    await daemon?.stop();
    env?.cleanup();
  });
  afterEach(() => expect(mountsUnder(env.dir), 'leftover mounts').to.deep.equal([]));

  let n = 0;
  const buildOut = async (dockerfile: string) => {
    const ctx = env.context({ Dockerfile: dockerfile }, `ctx-git-${n}`);
    const out = join(env.dir, `out-git-${n++}`);
    const res = await env.build({ context: ctx, outputs: [{ type: 'local', dest: out }] });
    return { ...res, out };
  };

  it('adds a branch without .git, mtimes at the commit time, and a tag', async () => {
    const res = await buildOut(
      [
        'FROM busybox',
        `ADD ${daemon.url('proj.git')}#main /src/`,
        `ADD ${daemon.url('proj.git')}#v1 /tagged`,
        `ADD ${daemon.url('proj.git')} /default/`,
        'RUN [ "$(cat /src/README.md)" = v2 ] && [ "$(stat -c %u /src/sub/inner.txt)" = 0 ]',
        '',
      ].join('\n'),
    );
    expect(readFileSync(join(res.out, 'src/README.md'), 'utf8')).to.equal('v2\n');
    expect(readFileSync(join(res.out, 'src/sub/deep/x.txt'), 'utf8')).to.equal('x\n');
    expect(existsSync(join(res.out, 'src/.git'))).to.equal(false);
    expect(statSync(join(res.out, 'src/README.md')).mtimeMs).to.equal(T2 * 1000);
    expect(statSync(join(res.out, 'src/sub')).mtimeMs).to.equal(T2 * 1000);
    expect(readFileSync(join(res.out, 'tagged/README.md'), 'utf8')).to.equal('v1\n');
    expect(statSync(join(res.out, 'tagged/README.md')).mtimeMs).to.equal(T1 * 1000);
    expect(readFileSync(join(res.out, 'default/README.md'), 'utf8')).to.equal('v2\n');
  });

  it('adds a subdir of a ref (#ref:subdir), and a commit by its id', async () => {
    const res = await buildOut(
      ['FROM busybox', `ADD ${daemon.url('proj.git')}#main:sub /only-sub/`, `ADD ${daemon.url('proj.git')}#${first} /pinned/`, ''].join('\n'),
    );
    expect(readFileSync(join(res.out, 'only-sub/inner.txt'), 'utf8')).to.equal('inner v1\n');
    expect(readFileSync(join(res.out, 'only-sub/deep/x.txt'), 'utf8')).to.equal('x\n');
    expect(existsSync(join(res.out, 'only-sub/README.md'))).to.equal(false);
    expect(readFileSync(join(res.out, 'pinned/README.md'), 'utf8')).to.equal('v1\n');
  });

  it('--keep-git-dir keeps .git at the resolved commit', async () => {
    const res = await buildOut(['FROM busybox', `ADD --keep-git-dir ${daemon.url('proj.git')}#main /repo/`, ''].join('\n'));
    expect(existsSync(join(res.out, 'repo/.git'))).to.equal(true);
    expect(gitIn(join(res.out, 'repo'), ['-c', `safe.directory=*`, 'rev-parse', 'HEAD'])).to.equal(gitIn(work, ['rev-parse', 'main']));
    expect(gitIn(join(res.out, 'repo'), ['-c', `safe.directory=*`, 'status', '--porcelain'])).to.equal('');
  });

  it('an unchanged branch is cached; a new commit on it rebuilds, explained', async () => {
    const dockerfile = `FROM busybox\nADD ${daemon.url('proj.git')}#main /app/\nRUN cat /app/README.md > /seen\n`;
    await buildOut(dockerfile);
    const runs = env.executor.runs;
    const cached = await buildOut(dockerfile);
    expect(eventsOf(cached.events, 'vertex.started')).to.deep.equal([]);
    expect(env.executor.runs).to.equal(runs);

    const before = gitIn(work, ['rev-parse', 'HEAD']);
    const after = commit({ 'README.md': 'v3\n' }, 'third', T2 + 100);
    const rebuilt = await buildOut(dockerfile);
    expect(readFileSync(join(rebuilt.out, 'seen'), 'utf8')).to.equal('v3\n');
    expect(env.executor.runs).to.equal(runs + 1);
    const explain = eventsOf(rebuilt.events, 'vertex.explain');
    const source = explain.find((e) => e.name.includes('load git source'))!;
    expect(source.reasons).to.deep.equal([{ kind: 'content', path: `${daemon.url('proj.git')}#main`, change: 'changed', old: before, new: after }]);
  });

  it('an http URL ending in .git is a git source (smart HTTP), not a download', async () => {
    const res = await buildOut(['FROM busybox', `ADD ${gitHttp.url('proj.git')}#v1:sub /over-http/`, ''].join('\n'));
    expect(readFileSync(join(res.out, 'over-http/inner.txt'), 'utf8')).to.equal('inner v1\n');
    expect(existsSync(join(res.out, 'over-http/proj.git'))).to.equal(false);
  });

  it('a ref that does not exist fails at the ADD line, naming the remote', async () => {
    const ctx = env.context({ Dockerfile: `FROM busybox\nADD ${daemon.url('proj.git')}#no-such-branch /x/\n` }, 'ctx-git-missing');
    const err = await env.build({ context: ctx }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(DockerfileError);
    const e = err as DockerfileError;
    expect(e.location).to.match(/^Dockerfile:2(:|$)/);
    expect(e.message).to.include('no-such-branch').and.include(daemon.url('proj.git'));
    expect(e.code).to.equal('GIT_SOURCE_REF_NOT_FOUND');
  });
});
