/**
 * Transport and auth against a real registry (Debian's docker-registry on
 * 127.0.0.1): plain HTTP, TLS with a test CA, htpasswd Basic, Bearer tokens
 * from a test token server, a credential helper, a wrong password, and
 * injected 500/429/resets retried.
 */
import { expect } from 'chai';
import { chmod, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryError, sha256 } from '@tsbuild/core';
import { RegistryClient, dockerConfigCredentials, discard, type RegistryClientOptions } from '../src/index.js';
import { makePki, makeSigningCert } from './support/pki.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { startTokenServer } from './support/token-server.js';
import { startFaultProxy } from './support/fault-proxy.js';

/** Uploads a blob with POST + PUT (monolithic) and checks it with HEAD. */
async function uploadAndHead(client: RegistryClient, registry: string, repo: string, data: Buffer): Promise<number> {
  const digest = sha256(data);
  const start = await client.send(registry, repo, ['pull', 'push'], { method: 'POST', path: '/blobs/uploads/', operation: 'POST blob upload' });
  if (start.status !== 202) throw await client.failure(registry, repo, { operation: 'POST blob upload' }, start);
  discard(start);
  const location = new URL(start.headers['location']!, `http://${registry}`);
  location.searchParams.set('digest', digest);
  const put = await client.send(registry, repo, ['pull', 'push'], {
    method: 'PUT', path: location.toString(), body: data, operation: 'PUT blob', digest,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
  });
  if (put.status !== 201) throw await client.failure(registry, repo, { operation: 'PUT blob', digest }, put);
  discard(put);
  const head = await client.send(registry, repo, ['pull'], { method: 'HEAD', path: `/blobs/${digest}`, operation: 'HEAD blob', digest });
  discard(head);
  return head.status;
}

const fixedCreds = (username: string, password: string): RegistryClientOptions['credentials'] => async () => ({ username, password });
const none: RegistryClientOptions['credentials'] = async () => undefined;

describe('registry transport and auth (docker-registry)', function () {
  this.timeout(60_000);
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => { while (cleanups.length) await cleanups.pop()!(); });
  const track = <T extends { stop?: () => Promise<void>; close?: () => Promise<void> }>(x: T): T => {
    cleanups.push(() => (x.stop ?? x.close)!.call(x));
    return x;
  };

  it('speaks plain HTTP to a loopback registry without auth', async () => {
    const reg = track(await startRegistry());
    const client = track(new RegistryClient({ credentials: none }));
    expect(await uploadAndHead(client, reg.host, 'plain/app', Buffer.from('hello'))).to.equal(200);
  });

  it('trusts a test CA from certs.d/<host>/ca.crt and refuses the server without it', async () => {
    const pki = makePki();
    const reg = track(await startRegistry({ tls: pki }));
    const certsDir = await mkdtemp(join(tmpdir(), 'tsbuild-certs-'));
    cleanups.push(() => rm(certsDir, { recursive: true, force: true }));
    await mkdir(join(certsDir, reg.host));
    await writeFile(join(certsDir, reg.host, 'ca.crt'), pki.ca.certPem);
    const client = track(new RegistryClient({ credentials: none, certsDir }));
    expect(await uploadAndHead(client, reg.host, 'tls/app', Buffer.from('over tls'))).to.equal(200);
    // Without the CA: https fails verification; the plain-HTTP fallback (loopback) gets a 400, and the TLS reason is reported.
    const untrusting = track(new RegistryClient({ credentials: none, certsDir: join(certsDir, 'none'), retry: { attempts: 1 } }));
    const err = await uploadAndHead(untrusting, reg.host, 'tls/app', Buffer.from('x')).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RegistryError);
    expect([(err as RegistryError).code, (err as RegistryError).message]).to.deep.equal(['REGISTRY_UNREACHABLE', `registry ${reg.host}: GET /v2/: connection failed: unable to verify the first certificate`]);
  });

  it('presents the client certificate from certs.d/<host>/client.cert and client.key when the registry asks for one', async () => {
    const pki = makePki();
    const reg = track(await startRegistry({ tls: pki, clientAuth: true }));
    const certsDir = await mkdtemp(join(tmpdir(), 'tsbuild-certs-'));
    cleanups.push(() => rm(certsDir, { recursive: true, force: true }));
    await mkdir(join(certsDir, reg.host));
    await writeFile(join(certsDir, reg.host, 'ca.crt'), pki.ca.certPem);
    const anonymous = track(new RegistryClient({ credentials: none, certsDir, retry: { attempts: 1 } }));
    const refused = await uploadAndHead(anonymous, reg.host, 'mtls/app', Buffer.from('x')).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(RegistryError);
    expect((refused as RegistryError).code).to.equal('REGISTRY_UNREACHABLE');
    // TLS 1.3 sends the server's "certificate required" after the handshake: the client sees the connection closed.
    expect((refused as Error).message).to.match(new RegExp(`^registry ${reg.host}: GET /v2/: connection failed: `));
    await writeFile(join(certsDir, reg.host, 'client.cert'), pki.client.certPem);
    await writeFile(join(certsDir, reg.host, 'client.key'), pki.client.keyPem);
    const withCert = track(new RegistryClient({ credentials: none, certsDir }));
    expect(await uploadAndHead(withCert, reg.host, 'mtls/app', Buffer.from('mutual tls'))).to.equal(200);
  });

  it('answers an htpasswd Basic challenge, and words a wrong password precisely', async () => {
    const reg = track(await startRegistry({ htpasswd: { user: 'alice', password: 's3cret' } }));
    const good = track(new RegistryClient({ credentials: fixedCreds('alice', 's3cret') }));
    expect(await uploadAndHead(good, reg.host, 'basic/app', Buffer.from('basic'))).to.equal(200);
    const bad = track(new RegistryClient({ credentials: fixedCreds('alice', 'wrong') }));
    const err = (await uploadAndHead(bad, reg.host, 'basic/app', Buffer.from('x')).catch((e: unknown) => e)) as RegistryError;
    expect(err).to.be.instanceOf(RegistryError);
    expect([err.category, err.status, err.ociCode, err.code]).to.deep.equal(['Unauthenticated', 401, 'UNAUTHORIZED', 'REGISTRY_UNAUTHORIZED']);
    expect(err.message).to.equal(`registry ${reg.host}, repository basic/app: POST blob upload: 401 UNAUTHORIZED: authentication required (the credentials for ${reg.host} were not accepted)`);
  });

  it('runs the Bearer token flow: push scope with credentials, tokens cached, anonymous pull only', async () => {
    const signing = makeSigningCert();
    const tokens = await startTokenServer({ signing, service: 'test-registry', issuer: 'test-issuer', user: 'bob', password: 'pw', anonymousPull: true });
    cleanups.push(() => tokens.close());
    const reg = track(await startRegistry({ token: { realm: tokens.realm, service: 'test-registry', issuer: 'test-issuer', signing } }));
    const client = track(new RegistryClient({ credentials: fixedCreds('bob', 'pw') }));
    expect(await uploadAndHead(client, reg.host, 'tok/app', Buffer.from('token'))).to.equal(200);
    expect(await uploadAndHead(client, reg.host, 'tok/app', Buffer.from('token 2'))).to.equal(200);
    // One token per scope set, reused for the second upload.
    expect(tokens.requests.map((r) => [r.user, r.scopes.join(' ')])).to.deep.equal([
      ['bob', 'repository:tok/app:pull,push'],
      ['bob', 'repository:tok/app:pull'],
    ]);
    const anonymous = track(new RegistryClient({ credentials: none }));
    const head = await anonymous.send(reg.host, 'tok/app', ['pull'], { method: 'HEAD', path: `/blobs/${sha256('token')}`, operation: 'HEAD blob' });
    discard(head);
    expect(head.status).to.equal(200);
    const err = (await uploadAndHead(anonymous, reg.host, 'tok/app', Buffer.from('x')).catch((e: unknown) => e)) as RegistryError;
    expect([err.category, err.status, err.ociCode]).to.deep.equal(['Unauthenticated', 401, 'UNAUTHORIZED']);
    const wrong = track(new RegistryClient({ credentials: fixedCreds('bob', 'nope') }));
    const err2 = (await uploadAndHead(wrong, reg.host, 'tok/app', Buffer.from('x')).catch((e: unknown) => e)) as RegistryError;
    expect(err2.message).to.equal(`registry ${reg.host}: token from ${new URL(tokens.realm).host}: 401 UNAUTHORIZED: invalid username or password`);
  });

  it('uses an identity token through the refresh_token POST, and fetches a new token once the cached one expires', async () => {
    const signing = makeSigningCert();
    // expires_in 11 s: the client keeps a token until 10 s before its expiry, so for one second.
    const tokens = await startTokenServer({ signing, service: 'test-registry', issuer: 'test-issuer', user: 'bob', password: 'pw', refreshToken: 'rt-1', expiresIn: 11 });
    cleanups.push(() => tokens.close());
    const reg = track(await startRegistry({ token: { realm: tokens.realm, service: 'test-registry', issuer: 'test-issuer', signing } }));
    const client = track(new RegistryClient({ credentials: async () => ({ identityToken: 'rt-1' }) }));
    expect(await uploadAndHead(client, reg.host, 'tok/id', Buffer.from('identity'))).to.equal(200);
    const head = async () => {
      const r = await client.send(reg.host, 'tok/id', ['pull'], { method: 'HEAD', path: `/blobs/${sha256('identity')}`, operation: 'HEAD blob' });
      discard(r);
      return r.status;
    };
    expect(await head()).to.equal(200);
    const before = tokens.requests.length;
    await new Promise((r) => setTimeout(r, 1100));
    expect(await head()).to.equal(200);
    expect(tokens.requests.length).to.equal(before + 1);
    expect(tokens.requests.every((r) => r.user === 'bob')).to.equal(true);
    const wrong = track(new RegistryClient({ credentials: async () => ({ identityToken: 'stale' }) }));
    const err = (await uploadAndHead(wrong, reg.host, 'tok/id', Buffer.from('x')).catch((e: unknown) => e)) as RegistryError;
    expect(err.message).to.equal(`registry ${reg.host}: token from ${new URL(tokens.realm).host}: 401 UNAUTHORIZED: invalid refresh token`);
  });

  it('takes credentials from a docker-credential-<name> helper named in config.json', async () => {
    const reg = track(await startRegistry({ htpasswd: { user: 'carol', password: 'from-helper' } }));
    const dir = await mkdtemp(join(tmpdir(), 'tsbuild-dockercfg-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const log = join(dir, 'helper.log');
    await writeFile(join(dir, 'docker-credential-test'), [
      '#!/bin/sh',
      `read server; echo "$1 $server" >> ${log}`,
      `[ "$server" = "${reg.host}" ] || { echo "credentials not found in native keychain"; exit 1; }`,
      'echo \'{"ServerURL":"\'$server\'","Username":"carol","Secret":"from-helper"}\'',
    ].join('\n'));
    await chmod(join(dir, 'docker-credential-test'), 0o755);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ credHelpers: { [reg.host]: 'test' } }));
    const env = { ...process.env, DOCKER_CONFIG: dir, PATH: `${dir}:${process.env['PATH']}` };
    const client = track(new RegistryClient({ credentials: dockerConfigCredentials({ env }) }));
    expect(await uploadAndHead(client, reg.host, 'helper/app', Buffer.from('helped'))).to.equal(200);
    const { readFile } = await import('node:fs/promises');
    expect((await readFile(log, 'utf8')).split('\n')[0]).to.equal(`get ${reg.host}`);
  });

  it('retries injected 500s, a 429 with Retry-After and a reset, then succeeds', async () => {
    const reg = track(await startRegistry());
    const proxy = track(await startFaultProxy(reg.host));
    proxy.inject((r) => r.method === 'HEAD', [{ status: 500 }, { status: 429, retryAfter: '1' }, 'reset']);
    const client = track(new RegistryClient({ credentials: none, retry: { baseDelayMs: 10 } }));
    const t0 = Date.now();
    expect(await uploadAndHead(client, proxy.host, 'faults/app', Buffer.from('retried'))).to.equal(200);
    expect(Date.now() - t0).to.be.at.least(1000); // the Retry-After second was honoured
    expect(proxy.seen.filter((s) => s.startsWith('HEAD'))).to.have.length(4);
  });

  it('gives up after the bounded attempts with the last status and code', async () => {
    const reg = track(await startRegistry());
    const proxy = track(await startFaultProxy(reg.host));
    proxy.inject((r) => r.method === 'HEAD', Array.from({ length: 10 }, () => ({ status: 503 })));
    const client = track(new RegistryClient({ credentials: none, retry: { attempts: 3, baseDelayMs: 5 } }));
    const head = await client.send(proxy.host, 'faults/app', ['pull'], { method: 'HEAD', path: `/blobs/${sha256('x')}`, operation: 'HEAD blob' });
    const err = await client.failure(proxy.host, 'faults/app', { operation: 'HEAD blob', digest: sha256('x') }, head);
    expect([err.status, err.category]).to.deep.equal([503, 'Unavailable']);
    expect(proxy.seen.filter((s) => s.startsWith('HEAD'))).to.have.length(3);
  });

  it('reports an unreachable registry as one line, not a stack', async () => {
    const client = track(new RegistryClient({ credentials: none, retry: { attempts: 2, baseDelayMs: 5 } }));
    const err = (await client.send('127.0.0.1:1', 'x', ['pull'], { method: 'GET', path: '/tags/list', operation: 'GET tags' }).catch((e: unknown) => e)) as RegistryError;
    expect([err.category, err.code, err.status]).to.deep.equal(['Unavailable', 'REGISTRY_UNREACHABLE', 0]);
    expect(err.message).to.match(/^registry 127\.0\.0\.1:1: GET \/v2\/: connection failed: connect ECONNREFUSED 127\.0\.0\.1:1$/);
  });
});
