/**
 * Malformed, truncated and hostile requests against a real server: each gets
 * an error, nothing is written outside the server's root, and the server goes
 * on serving everyone (a build right after succeeds). Also: per-client rate
 * limits, and secrets that never reach the store or the log.
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { join } from 'node:path';
import { blobContents } from '../../builder/test/build-support.js';
import { END_FRAME, jsonFrame } from '../src/wire.js';
import { remoteBuild, startTestServer, writeContext, type ServerEnv } from './server-support.js';

interface Answer {
  status?: number;
  body: string;
  error?: string;
}

/** One raw request on a fresh session to the unix socket. */
function raw(s: ServerEnv, path: string, body: Buffer | undefined, headers: http2.OutgoingHttpHeaders = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const sock = s.unix.address.slice('unix://'.length);
    const session = http2.connect('http://localhost', { createConnection: () => connect(sock) });
    const answer: Answer = { body: '' };
    const finish = (error?: Error) => {
      if (error) answer.error = error.message;
      session.destroy();
      resolve(answer);
    };
    session.on('error', finish);
    const req = session.request({ ':method': body ? 'POST' : 'GET', ':path': path, ...headers });
    req.on('response', (h) => (answer.status = Number(h[':status'])));
    req.on('data', (c) => (answer.body += String(c)));
    req.on('error', finish);
    req.on('close', () => finish());
    if (body) req.end(body);
    else req.end();
  });
}

const request = (entries: object[], extra: object = {}) => jsonFrame({
  version: 1, contextId: 'hostile', dockerfile: 'Dockerfile', dockerfileText: 'FROM busybox:latest\n',
  options: {}, outputs: [{ type: 'image' }], secrets: [], entries, ...extra,
});
const entry = (path: string, type = 'file', extra: object = {}) => ({ path, type, mode: 0o644, uid: 0, gid: 0, size: 0, mtimeMs: 1, ...extra });

describe('build server: hostile requests', function () {
  this.timeout(300_000);
  let s: ServerEnv;
  before(async () => {
    s = await startTestServer('tsbuild-hostile-', { limits: { requestFrameBytes: 1024 * 1024 } });
  });
  after(async () => {
    await s?.close();
  });

  const rejected = (a: Answer) => (a.status !== undefined && a.status >= 400) || /"type":"error"/.test(a.body) || a.error !== undefined;

  it('answers garbage, oversized, truncated and misshapen bodies with an error', async () => {
    const answers = {
      garbage: await raw(s, '/v1/build', randomBytes(64 * 1024)),
      oversized: await raw(s, '/v1/build', Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7b])),
      truncated: await raw(s, '/v1/build', Buffer.concat([Buffer.from([0, 0, 3, 0xe8]), Buffer.from('{"version":1')])),
      notJson: await raw(s, '/v1/build', Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from('hello')])),
      wrongShape: await raw(s, '/v1/build', jsonFrame({ version: 1, contextId: 7 })),
      wrongVersion: await raw(s, '/v1/build', jsonFrame({ version: 99 })),
      hostOption: await raw(s, '/v1/build', request([], { options: { context: '/etc' } })),
      hostContext: await raw(s, '/v1/build', request([], { options: { buildContexts: { x: '/etc' } } })),
      badContextId: await raw(s, '/v1/build', request([], { contextId: '../../etc' })),
      unknownRoute: await raw(s, '/v1/nothing', undefined),
    };
    for (const [name, a] of Object.entries(answers)) expect(rejected(a), `${name}: ${JSON.stringify(a)}`).to.equal(true);
    expect(answers.oversized.status).to.equal(413);
    expect(answers.truncated.body).to.match(/truncated/);
    expect(answers.hostOption.body).to.match(/cannot be used remotely/);
  });

  it('refuses paths that leave the context, and files written through symlinks, writing nothing outside', async () => {
    const outside = join(s.env.dir, 'outside');
    const escapes = [
      request([entry('../../../escape.txt', 'file', { size: 3 })]),
      request([entry('/tmp/escape.txt', 'file', { size: 3 })]),
      request([entry('out', 'symlink', { target: outside }), entry('out/escape.txt', 'file', { size: 3 })]),
    ];
    for (const head of escapes) {
      const a = await raw(s, '/v1/build', Buffer.concat([head, jsonFrame(entry('out/escape.txt', 'file', { size: 3 })), Buffer.from('bad'), END_FRAME]));
      expect(rejected(a), JSON.stringify(a)).to.equal(true);
    }
    expect(existsSync(join(outside, 'escape.txt'))).to.equal(false);
    expect(existsSync('/tmp/escape.txt')).to.equal(false);
    expect(filesNamed(s.env.dir, 'escape.txt')).to.deep.equal([]);
  });

  it('survives a huge header block and a stream reset mid-upload', async () => {
    const huge = await raw(s, '/healthz', undefined, { 'x-junk': 'j'.repeat(200 * 1024) });
    expect(huge.status).to.not.equal(200);
    // A request that promises a file and then resets its stream.
    await new Promise<void>((resolve) => {
      const sock = s.unix.address.slice('unix://'.length);
      const session = http2.connect('http://localhost', { createConnection: () => connect(sock) });
      session.on('error', () => undefined);
      const req = session.request({ ':method': 'POST', ':path': '/v1/build' });
      req.on('error', () => undefined);
      req.write(request([entry('big.bin', 'file', { size: 10_000_000 })]));
      req.once('data', () => {
        req.write(jsonFrame(entry('big.bin', 'file', { size: 10_000_000 })));
        req.write(Buffer.alloc(1000));
        setTimeout(() => {
          req.close(http2.constants.NGHTTP2_CANCEL);
          session.destroy();
          resolve();
        }, 100);
      });
    });
  });

  it('keeps serving: a health check and a real build succeed after all that', async () => {
    expect((await raw(s, '/healthz', undefined)).body).to.equal('ok\n');
    const context = writeContext(join(s.env.dir, 'after'), { Dockerfile: 'FROM busybox:latest\nCOPY a.txt /a.txt\n', 'a.txt': 'fine\n' });
    const r = await remoteBuild({ context }, s.unix);
    expect(r.digest).to.match(/^sha256:/);
  });

  it('never keeps a secret: not in the store, the context copy or the log', async () => {
    const secret = `s3cr3t-${randomBytes(8).toString('hex')}`;
    const ok = writeContext(join(s.env.dir, 'secret-ok'), { Dockerfile: 'FROM busybox:latest\nRUN --mount=type=secret,id=tok test "$(cat /run/secrets/tok | wc -c)" -gt 10 && echo secret-seen > /seen\n' });
    const built = await remoteBuild({ context: ok, secrets: [{ id: 'tok', env: 'MY_TOKEN' }], env: { MY_TOKEN: secret } }, s.unix);
    expect(built.digest).to.match(/^sha256:/);
    const needle = Buffer.from(secret);
    const leaks: string[] = [];
    for (const file of allFiles(s.env.store.root)) if (readFileSync(file).includes(needle)) leaks.push(file);
    for (const blob of blobContents(s.env.store)) if (blob.data.includes(needle)) leaks.push(blob.name);
    expect(leaks).to.deep.equal([]);
    expect(s.log.join('\n')).to.not.include(secret);
  });
});

describe('build server: per-client rate limit', function () {
  this.timeout(120_000);
  let s: ServerEnv;
  before(async () => {
    s = await startTestServer('tsbuild-rate-', { limits: { requestsPerSecond: 0.5, burst: 3 } });
  });
  after(async () => {
    await s?.close();
  });

  it('answers 429 past the burst, and the limit is per client', async () => {
    const statuses: Array<number | undefined> = [];
    for (let i = 0; i < 5; i++) statuses.push((await raw(s, '/healthz', undefined)).status);
    expect(statuses.slice(0, 3)).to.deep.equal([200, 200, 200]);
    expect(statuses.slice(3)).to.deep.equal([429, 429]);
    expect(s.server.metrics.rejected.rate).to.equal(2);
  });
});

function* allFiles(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) yield* allFiles(p);
    else if (st.isFile()) yield p;
  }
}

function filesNamed(dir: string, name: string): string[] {
  return [...allFiles(dir)].filter((f) => f.endsWith(`/${name}`));
}
