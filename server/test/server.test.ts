/**
 * The build server end to end: a real server (unix socket and 127.0.0.1 with
 * mutual TLS), real builds with crun, the client API. Remote builds equal
 * local ones; strangers are refused; cancel frees the server; identical
 * concurrent builds run each step once; many clients at once all succeed.
 */
import { expect } from 'chai';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { join } from 'node:path';
import { CanceledError } from '@tsbuild/core';
import { makeBuildEnv, mountsUnder } from '../../builder/test/build-support.js';
import { createCerts } from '../src/index.js';
import { findFiles, remoteBuild, startTestServer, writeContext, type ServerEnv } from './server-support.js';

describe('build server: remote builds over a unix socket and mutual TLS', function () {
  this.timeout(300_000);
  let s: ServerEnv;

  before(async () => {
    s = await startTestServer('tsbuild-server-');
  });
  after(async () => {
    await s?.close();
  });

  const DOCKERFILE = 'FROM busybox:latest\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt && echo built\n';

  it('builds the same image as a local build (same digest with SOURCE_DATE_EPOCH), over unix and TCP', async () => {
    const context = writeContext(join(s.env.dir, 'same'), { Dockerfile: DOCKERFILE, 'a.txt': 'same\n' });
    const overUnix = await remoteBuild({ context, sourceDateEpoch: 0, tags: ['same:unix'] }, s.unix);
    const overTcp = await remoteBuild({ context, sourceDateEpoch: 0 }, s.tcp('alice'));
    const local = await makeBuildEnv('tsbuild-server-local-');
    try {
      const built = await local.build({ context, sourceDateEpoch: 0, contextWatch: false });
      expect(overUnix.digest).to.equal(built.digest);
      expect(overTcp.digest).to.equal(built.digest);
      expect(overUnix.configDigest).to.equal(built.configDigest);
    } finally {
      local.cleanup();
    }
    // type=image lands in the server's store.
    expect((await s.env.store.images.get('docker.io/library/same:unix'))?.target.digest ?? (await s.env.store.images.get('same:unix'))?.target.digest).to.equal(overUnix.digest);
  });

  it('refuses a TCP client without a certificate, and one whose certificate another CA signed', async () => {
    const ca = readFileSync(join(s.certs, 'ca.pem'));
    const tcp = s.tcp('alice').address.replace('tcp://', 'https://');
    expect(await healthz(tcp, { ca })).to.match(/^refused/);
    const other = join(s.env.dir, 'other-certs');
    await createCerts({ out: other, clients: ['mallory'] });
    expect(await healthz(tcp, { ca, cert: readFileSync(join(other, 'client-mallory.pem')), key: readFileSync(join(other, 'client-mallory-key.pem')) })).to.match(/^refused/);
    // The real client's certificate passes: the refusals above are about the certificate.
    expect(await healthz(tcp, { ca, cert: readFileSync(join(s.certs, 'client-alice.pem')), key: readFileSync(join(s.certs, 'client-alice-key.pem')) })).to.equal('ok\n');
    const bad = join(s.env.dir, 'bad-client');
    const otherClient = { address: s.tcp().address, tls: { cert: join(other, 'client-mallory.pem'), key: join(other, 'client-mallory-key.pem'), ca: join(s.certs, 'ca.pem') } };
    const context = writeContext(bad, { Dockerfile: DOCKERFILE, 'a.txt': 'x\n' });
    const err = await remoteBuild({ context }, otherClient).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/build server|stream|socket|certificate|alert/i);
  });

  it('cancels a remote build when the client aborts: the server kills the step and frees its slot', async () => {
    const context = writeContext(join(s.env.dir, 'cancel'), { Dockerfile: 'FROM busybox:latest\nRUN echo started && sleep 60\n', 'a.txt': '' });
    const controller = new AbortController();
    const t0 = Date.now();
    const err = await remoteBuild({
      context, signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'vertex.log' && e.data.includes('started')) controller.abort(new Error('interrupted'));
      },
    }, s.unix).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(CanceledError);
    expect(Date.now() - t0).to.be.below(30_000);
    await until(() => s.server.metrics.buildsRunning === 0 && s.server.metrics.buildsFinished.canceled >= 1);
    await until(() => mountsUnder(s.env.store.root).length === 0);
    const procs = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map((p) => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { return ''; } });
    expect(procs.filter((c) => c.includes('sleep\u000060'))).to.deep.equal([]);
  });

  it('runs each step once for two identical builds at the same moment (two clients, one solver)', async () => {
    const dockerfile = 'FROM busybox:latest\nRUN --mount=type=cache,target=/c,id=dedup sh -c "echo run >> /c/runs.log; sleep 2; echo one > /one"\nRUN --mount=type=cache,target=/c,id=dedup sh -c "echo run >> /c/runs.log; echo two > /two"\n';
    const a = writeContext(join(s.env.dir, 'dedup-a'), { Dockerfile: dockerfile });
    const b = writeContext(join(s.env.dir, 'dedup-b'), { Dockerfile: dockerfile });
    const [ra, rb] = await Promise.all([remoteBuild({ context: a, sourceDateEpoch: 0 }, s.tcp('alice')), remoteBuild({ context: b, sourceDateEpoch: 0 }, s.tcp('bob'))]);
    expect(ra.digest).to.equal(rb.digest);
    const logs = findFiles(join(s.env.store.root, 'cache-mounts'), 'runs.log');
    expect(logs).to.have.length(1);
    expect(readFileSync(logs[0]!, 'utf8')).to.equal('run\nrun\n'); // two RUNs, each executed once
  });

  it('a client canceling a step another client shares does not fail the other', async () => {
    const dockerfile = 'FROM busybox:latest\nRUN echo shared-go && sleep 3 && echo data > /f\n';
    const a = writeContext(join(s.env.dir, 'share-cancel-a'), { Dockerfile: dockerfile });
    const b = writeContext(join(s.env.dir, 'share-cancel-b'), { Dockerfile: dockerfile });
    const controller = new AbortController();
    const first = remoteBuild({
      context: a, signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'vertex.log' && e.data.includes('shared-go')) setTimeout(() => controller.abort(new Error('interrupted')), 300);
      },
    }, s.tcp('alice')).then(() => undefined, (e: unknown) => e);
    const out = join(s.env.dir, 'share-cancel-out');
    const second = await remoteBuild({ context: b, outputs: [{ type: 'local', dest: out }] }, s.tcp('bob'));
    expect(await first).to.be.instanceOf(CanceledError);
    expect(readFileSync(join(out, 'f'), 'utf8')).to.equal('data\n');
    expect(second.digest).to.match(/^sha256:/);
  });

  it('builds for 8 clients at once, identical and different projects mixed, all correct', async () => {
    const jobs = Array.from({ length: 8 }, (_, i) => {
      const project = i % 2 === 0 ? 'same' : `own-${i}`;
      const context = writeContext(join(s.env.dir, `many-${i}`), { Dockerfile: `FROM busybox:latest\nCOPY a.txt /a.txt\nRUN cat /a.txt > /copy && sleep 1\n`, 'a.txt': `${project}\n` });
      const out = join(s.env.dir, `many-out-${i}`);
      return remoteBuild({ context, sourceDateEpoch: 0, outputs: [{ type: 'local', dest: out }] }, i % 3 === 0 ? s.unix : s.tcp(i % 2 ? 'alice' : 'bob')).then((r) => ({ r, project, out }));
    });
    const results = await Promise.all(jobs);
    for (const { project, out } of results) expect(readFileSync(join(out, 'copy'), 'utf8')).to.equal(`${project}\n`);
    const digests = new Map<string, Set<string>>();
    for (const { r, project } of results) digests.set(project, (digests.get(project) ?? new Set()).add(r.digest));
    expect([...digests.values()].every((d) => d.size === 1)).to.equal(true);
    expect(new Set(results.map((x) => x.r.digest)).size).to.equal(5);
  });

  it('refuses entitlements the server does not grant (BuildKit: at once, asked for or used)', async () => {
    const insecure = writeContext(join(s.env.dir, 'insecure'), { Dockerfile: 'FROM busybox:latest\nRUN --security=insecure true\n' });
    const asked = await remoteBuild({ context: insecure, allowInsecure: true }, s.unix).then(() => undefined, (e: Error) => e);
    expect(asked?.message).to.equal('granting entitlement security.insecure is not allowed by build daemon configuration');
    const host = writeContext(join(s.env.dir, 'net-host'), { Dockerfile: 'FROM busybox:latest\nRUN --network=host true\n' });
    const askedHost = await remoteBuild({ context: host, allowNetworkHost: true }, s.unix).then(() => undefined, (e: Error) => e);
    expect(askedHost?.message).to.equal('granting entitlement network.host is not allowed by build daemon configuration');
    const used = await remoteBuild({ context: host }, s.unix).then(() => undefined, (e: Error) => e);
    expect(used?.message).to.match(/network.host is not allowed/);
  });

  it('serves /healthz and /metrics (Prometheus text) on a 0660 unix socket', async () => {
    const metrics = await get(s, '/metrics');
    expect(metrics).to.match(/^tsbuild_builds_finished_total\{result="success"\} [1-9]/m);
    expect(metrics).to.match(/^tsbuild_steps_total\{state="executed"\} [1-9]/m);
    expect(metrics).to.match(/^tsbuild_bytes_received_total [1-9]/m);
    expect(metrics).to.match(/^tsbuild_store_bytes\{kind="layers"\} [1-9]/m);
    expect(await get(s, '/healthz')).to.equal('ok\n');
    expect(statSync(s.unix.address.slice('unix://'.length)).mode & 0o777).to.equal(0o660);
  });
});

/** GET /healthz over TLS with the given client credentials: the body of a 200, or `refused: …`. */
function healthz(url: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<string> {
  return new Promise((resolve) => {
    const session = http2.connect(url, tls);
    let answered = false;
    const refused = (why: string) => {
      session.destroy();
      resolve(`refused: ${why}`);
    };
    session.on('error', (err) => refused(err.message));
    const req = session.request({ ':path': '/healthz' });
    req.on('error', (err) => refused(err.message));
    req.on('response', (h) => (answered = h[':status'] === 200));
    let body = '';
    req.on('data', (c) => (body += String(c)));
    req.on('close', () => {
      session.close();
      if (answered) resolve(body);
      else refused('no response');
    });
  });
}

/** A GET on the unix socket. */
export function get(s: ServerEnv, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = s.unix.address.slice('unix://'.length);
    const session = http2.connect('http://localhost', { createConnection: () => connect(sock) });
    session.on('error', reject);
    const req = session.request({ ':path': path });
    let body = '';
    req.on('data', (c) => (body += String(c)));
    req.on('end', () => {
      session.close();
      resolve(body);
    });
    req.on('error', reject);
  });
}

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('build server with --allow-insecure-entitlement', function () {
  this.timeout(300_000);
  let s: ServerEnv;
  before(async () => {
    s = await startTestServer('tsbuild-server-insecure-', { allowInsecureEntitlements: ['security.insecure', 'network.host'] });
  });
  after(async () => {
    await s?.close();
  });

  it('runs RUN --security=insecure and --network=host for a client that asked with --allow, and refuses one that did not', async () => {
    const context = writeContext(join(s.env.dir, 'insecure'), { Dockerfile: 'FROM busybox:latest\nRUN --security=insecure echo privileged\nRUN --network=host echo host\n' });
    const allowed = await remoteBuild({ context, allowInsecure: true, allowNetworkHost: true }, s.unix);
    expect(allowed.digest).to.match(/^sha256:/);
    const err = await remoteBuild({ context }, s.unix).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/entitlement security.insecure is not allowed/);
    const noHost = await remoteBuild({ context, allowInsecure: true }, s.unix).then(() => undefined, (e: Error) => e);
    expect(noHost?.message).to.match(/network.host is not allowed/);
  });
});

describe('build server with --max-parallel-builds 1', function () {
  this.timeout(300_000);
  let s: ServerEnv;
  before(async () => {
    s = await startTestServer('tsbuild-server-slots-', { maxParallelBuilds: 1 });
  });
  after(async () => {
    await s?.close();
  });

  it('runs one build at a time and queues the rest; all finish', async () => {
    let maxRunning = 0;
    let maxQueued = 0;
    const watch = setInterval(() => {
      maxRunning = Math.max(maxRunning, s.server.metrics.buildsRunning);
      maxQueued = Math.max(maxQueued, s.server.metrics.buildsQueued);
    }, 10);
    try {
      const builds = [1, 2, 3].map((i) => remoteBuild({ context: writeContext(join(s.env.dir, `slot-${i}`), { Dockerfile: `FROM busybox:latest\nRUN sleep 1 && echo ${i} > /i\n` }) }, s.unix));
      const results = await Promise.all(builds);
      expect(new Set(results.map((r) => r.digest)).size).to.equal(3);
    } finally {
      clearInterval(watch);
    }
    expect(maxRunning).to.equal(1);
    expect(maxQueued).to.be.at.least(1);
  });
});
