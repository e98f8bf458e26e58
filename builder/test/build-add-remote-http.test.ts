/**
 * ADD <http url> end to end against a real HTTP server on 127.0.0.1 (issue 5):
 * the file as BuildKit writes it (name from the URL, 0600, mtime from
 * Last-Modified, extracted only with --unpack=true), the key resolved at solve time (a
 * conditional GET answered 304 hits; changed bytes rebuild, explained),
 * --checksum (verified; known without downloading), errors located at the
 * ADD line.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { DockerfileError, sha256 } from '@tsbuild/core';
import { eventsOf, makeBuildEnv, mountsUnder, type BuildEnv } from './build-support.js';

interface Served {
  body: Buffer;
  etag?: string;
  lastModified?: string;
}

class FileServer {
  readonly files = new Map<string, Served>();
  readonly requests: Array<{ path: string; headers: IncomingHttpHeaders; status: number }> = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const f = this.files.get(path);
      const status = !f ? 404 : f.etag !== undefined && req.headers['if-none-match'] === f.etag ? 304 : 200;
      this.requests.push({ path, headers: req.headers, status });
      if (!f) return void res.writeHead(404).end('not found');
      const headers: Record<string, string> = {};
      if (f.etag) headers.etag = f.etag;
      if (f.lastModified) headers['last-modified'] = f.lastModified;
      if (status === 304) return void res.writeHead(304, headers).end();
      res.writeHead(200, { ...headers, 'content-length': String(f.body.length) }).end(f.body);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  served(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

const LAST_MODIFIED = 'Wed, 21 Oct 2015 07:28:00 GMT';

describe('build: ADD <http url>', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  const http = new FileServer();
  before(async () => {
    env = await makeBuildEnv('tsbuild-add-http-');
    await http.start();
  });
  after(async () => {
    await http.stop();
    env?.cleanup();
  });
  afterEach(() => expect(mountsUnder(env.dir), 'leftover mounts').to.deep.equal([]));

  const buildOut = async (name: string, dockerfile: string, files: Record<string, string> = {}) => {
    const ctx = env.context({ Dockerfile: dockerfile, ...files }, `ctx-${name}`);
    const out = join(env.dir, `out-${name}-${Date.now()}`);
    const res = await env.build({ context: ctx, outputs: [{ type: 'local', dest: out }] });
    return { ...res, out };
  };

  it('downloads the file named after the URL, 0600, mtime from Last-Modified, not extracted; --chmod, a file dest and local sources mixed in', async () => {
    const tgz = gzipSync(Buffer.from('not a tar, and never extracted'));
    http.files.set('/files/hello.txt', { body: Buffer.from('hello over http\n'), etag: '"h1"', lastModified: LAST_MODIFIED });
    http.files.set('/files/archive.tar.gz', { body: tgz });
    const res = await buildOut(
      'basic',
      [
        'FROM busybox',
        `ADD ${http.url('/files/hello.txt')} /app/`,
        `ADD --chmod=644 ${http.url('/files/hello.txt')} /app/renamed.txt`,
        `ADD ${http.url('/files/archive.tar.gz')} local.txt /mix/`,
        `ADD --link ${http.url('/files/hello.txt')} /linked/`,
        'RUN [ "$(stat -c %u:%g:%a /app/hello.txt)" = "0:0:600" ] && [ "$(cat /app/renamed.txt)" = "hello over http" ]',
        '',
      ].join('\n'),
      { 'local.txt': 'local' },
    );
    const hello = statSync(join(res.out, 'app/hello.txt'));
    expect(readFileSync(join(res.out, 'app/hello.txt'), 'utf8')).to.equal('hello over http\n');
    expect(hello.mode & 0o7777).to.equal(0o600);
    expect(hello.mtimeMs).to.equal(Date.parse(LAST_MODIFIED));
    expect(statSync(join(res.out, 'app/renamed.txt')).mode & 0o7777).to.equal(0o644);
    expect(readFileSync(join(res.out, 'mix/archive.tar.gz'))).to.deep.equal(tgz);
    expect(readFileSync(join(res.out, 'mix/local.txt'), 'utf8')).to.equal('local');
    expect(readFileSync(join(res.out, 'linked/hello.txt'), 'utf8')).to.equal('hello over http\n');
  });

  it('--unpack: a downloaded tar is extracted only with --unpack=true; a local one is kept with --unpack=false (BuildKit dispatchCopy)', async () => {
    const tree = join(env.dir, 'unpack-tree');
    mkdirSync(join(tree, 'pkg'), { recursive: true });
    writeFileSync(join(tree, 'pkg/inside.txt'), 'from the archive\n');
    const tgz = gzipSync(execFileSync('tar', ['-c', '-C', tree, 'pkg']));
    http.files.set('/files/real.tar.gz', { body: tgz });
    http.files.set('/files/text.gz', { body: gzipSync(Buffer.from('just text')) });
    const ctx = env.context({
      Dockerfile: [
        'FROM busybox',
        `ADD ${http.url('/files/real.tar.gz')} /default/`,
        `ADD --unpack=true ${http.url('/files/real.tar.gz')} /unpacked/`,
        `ADD --unpack=true ${http.url('/files/text.gz')} /unpacked-text/`,
        `ADD --unpack=false local.tgz /kept/`,
        `ADD local.tgz /local/`,
        '',
      ].join('\n'),
    }, 'ctx-unpack');
    writeFileSync(join(ctx, 'local.tgz'), tgz);
    const out = join(env.dir, `out-unpack-${Date.now()}`);
    await env.build({ context: ctx, outputs: [{ type: 'local', dest: out }] });
    expect(readFileSync(join(out, 'default/real.tar.gz'))).to.deep.equal(tgz);
    expect(readFileSync(join(out, 'unpacked/pkg/inside.txt'), 'utf8')).to.equal('from the archive\n');
    expect(existsSync(join(out, 'unpacked/real.tar.gz'))).to.equal(false);
    expect(gunzipSync(readFileSync(join(out, 'unpacked-text/text.gz'))).toString()).to.equal('just text');
    expect(readFileSync(join(out, 'kept/local.tgz'))).to.deep.equal(tgz);
    expect(readFileSync(join(out, 'local/pkg/inside.txt'), 'utf8')).to.equal('from the archive\n');
  });

  it('an unchanged file is cached (the server answered a conditional GET with 304); changed bytes rebuild the step, explained', async () => {
    http.files.set('/v/data.txt', { body: Buffer.from('v1'), etag: '"v1"' });
    const dockerfile = `FROM busybox\nADD ${http.url('/v/data.txt')} /data.txt\nRUN cp /data.txt /copy.txt\n`;
    const first = await buildOut('cache', dockerfile);
    expect(readFileSync(join(first.out, 'copy.txt'), 'utf8')).to.equal('v1');

    const runs = env.executor.runs;
    const second = await buildOut('cache', dockerfile);
    expect(env.executor.runs - runs).to.equal(0);
    expect(eventsOf(second.events, 'vertex.started')).to.deep.equal([]);
    const last = http.requests.filter((r) => r.path === '/v/data.txt').at(-1)!;
    expect(last.headers['if-none-match']).to.equal('"v1"');
    expect(last.status).to.equal(304);

    http.files.set('/v/data.txt', { body: Buffer.from('v2'), etag: '"v2"' });
    const third = await buildOut('cache', dockerfile);
    expect(readFileSync(join(third.out, 'copy.txt'), 'utf8')).to.equal('v2');
    expect(env.executor.runs - runs).to.equal(1);
    const explain = eventsOf(third.events, 'vertex.explain');
    const source = explain.find((e) => e.name.includes('load remote'))!;
    expect(source.text).to.deep.equal([`file "${http.url('/v/data.txt')}" changed`]);
    expect(explain.find((e) => e.name.includes('ADD'))!.text.join('\n')).to.include('changed');
    expect(explain.find((e) => e.name.includes('RUN'))!.text).to.deep.equal([`parent step "[2/3] ADD ${http.url('/v/data.txt')} /data.txt" changed`]);
  });

  it('--checksum: verified, and a rebuild knows the key without downloading', async () => {
    const body = Buffer.from('checked content');
    http.files.set('/c/good.bin', { body });
    const dockerfile = `FROM busybox\nADD --checksum=${sha256(body)} ${http.url('/c/good.bin')} /good.bin\n`;
    const res = await buildOut('checksum', dockerfile);
    expect(readFileSync(join(res.out, 'good.bin'))).to.deep.equal(body);
    const served = http.served('/c/good.bin');
    expect(served).to.equal(1);
    const again = await buildOut('checksum', dockerfile);
    expect(eventsOf(again.events, 'vertex.started')).to.deep.equal([]);
    expect(http.served('/c/good.bin')).to.equal(served);
  });

  it('--checksum mismatch fails at the ADD line and stores nothing', async () => {
    const body = Buffer.from('tampered content');
    http.files.set('/c/bad.bin', { body });
    const wrong = sha256('the expected content');
    const ctx = env.context({ Dockerfile: `FROM busybox\nADD --checksum=${wrong} ${http.url('/c/bad.bin')} /bad.bin\n` }, 'ctx-bad');
    const err = await env.build({ context: ctx, tags: ['t/bad:1'] }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(DockerfileError);
    const e = err as DockerfileError;
    expect(e.location).to.match(/^Dockerfile:2(:|$)/);
    expect(e.message).to.include('checksum mismatch').and.include(http.url('/c/bad.bin')).and.include(wrong);
    expect(await env.store.content.info(sha256(body)).then(() => 'stored', () => 'absent')).to.equal('absent');
    expect(await env.store.images.get('t/bad:1').then(() => 'tagged', () => 'absent')).to.equal('absent');
  });

  it('a 404 fails with an error naming the URL and Dockerfile:line', async () => {
    const url = http.url('/missing.txt');
    const ctx = env.context({ Dockerfile: `FROM busybox\nRUN true\nADD ${url} /m.txt\n` }, 'ctx-404');
    const err = await env.build({ context: ctx }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(DockerfileError);
    const e = err as DockerfileError;
    expect(e.location).to.match(/^Dockerfile:3(:|$)/);
    expect(e.message).to.include(url).and.include('404');
    expect(e.code).to.equal('HTTP_SOURCE_STATUS');
  });

  it('several sources, one of them a URL, need a directory dest', async () => {
    http.files.set('/d/one.txt', { body: Buffer.from('1') });
    const ctx = env.context({ Dockerfile: `FROM busybox\nADD ${http.url('/d/one.txt')} local.txt /notadir\n`, 'local.txt': 'l' }, 'ctx-notdir');
    const err = await env.build({ context: ctx }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(DockerfileError);
    expect((err as DockerfileError).location).to.match(/^Dockerfile:2(:|$)/);
    expect((err as DockerfileError).message).to.include('must be a directory and end with a /');
  });

  it('a network failure names the URL and the ADD line', async () => {
    const closed = new FileServer();
    await closed.start();
    const url = closed.url('/gone.txt');
    await closed.stop();
    const ctx = env.context({ Dockerfile: `FROM busybox\nADD ${url} /g.txt\n` }, 'ctx-unreachable');
    const err = await env.build({ context: ctx }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(DockerfileError);
    expect((err as DockerfileError).location).to.match(/^Dockerfile:2(:|$)/);
    expect((err as DockerfileError).message).to.include(url);
    expect((err as DockerfileError).code).to.equal('HTTP_SOURCE_UNREACHABLE');
  });
});
