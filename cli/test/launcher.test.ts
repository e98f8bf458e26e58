/**
 * The `tsbuild` launcher (cli/bin/tsbuild.js run as an executable, as npm's bin
 * link runs it): a shell prologue that defers NODE_EXTRA_CA_CERTS so Node does
 * not parse the CA bundle at every start. The deferred certificates must still
 * be trusted where tsbuild opens a TLS connection: an ADD of an https URL
 * served by a real TLS server on 127.0.0.1 whose certificate only a private CA
 * (made here with openssl) vouches for.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { tempDir } from '../../test/support/fixtures.js';

const bin = resolve(import.meta.dirname, '../bin/tsbuild.js');

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile(file, args, { env }, (err, stdout, stderr) => ok({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

describe('tsbuild launcher: NODE_EXTRA_CA_CERTS deferred, still trusted', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let server: Server;
  let ctx: string;
  let caFile: string;
  const body = 'served over TLS\n';
  // The machine's own NODE_EXTRA_CA_CERTS (if any) must not decide the outcome.
  const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_EXTRA_CA_CERTS' && k !== 'TSBUILD_EXTRA_CA_CERTS'));

  before(async () => {
    tmp = tempDir('tsbuild-launcher-');
    const p = (f: string) => join(tmp.path, f);
    const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=tsbuild test CA');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('srv.key'), '-out', p('srv.csr'), '-subj', '/CN=127.0.0.1');
    writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', p('srv.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('srv.pem'), '-days', '2', '-extfile', p('ext.cnf'));
    caFile = p('ca.pem');
    server = createServer({ key: readFileSync(p('srv.key')), cert: readFileSync(p('srv.pem')) }, (_req, res) => {
      res.writeHead(200, { 'content-length': String(body.length) }).end(body);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    ctx = p('ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), `FROM scratch\nADD https://127.0.0.1:${(server.address() as AddressInfo).port}/hello.txt /hello.txt\n`);
  });
  after(async () => {
    await new Promise<void>((ok) => server.close(() => ok()));
    tmp.cleanup();
  });

  const build = (how: 'launcher' | 'node', env: NodeJS.ProcessEnv, out: string) => {
    const args = ['--root', join(tmp.path, 'store'), 'build', '--no-cache', '--output', `type=local,dest=${join(tmp.path, out)}`, ctx];
    return how === 'launcher' ? run(bin, args, env) : run(process.execPath, [bin, ...args], env);
  };

  it('an https ADD fails without the CA: the server is really untrusted', async () => {
    const r = await build('launcher', baseEnv, 'none');
    expect(r.code, r.stderr).to.equal(1);
    expect(r.stderr).to.match(/certificate|self.signed|issuer/i);
  });

  it('run as an executable, NODE_EXTRA_CA_CERTS reaches the download (loaded then, not at start)', async () => {
    const r = await build('launcher', { ...baseEnv, NODE_EXTRA_CA_CERTS: caFile }, 'launcher');
    expect(r.code, r.stderr).to.equal(0);
    expect(readFileSync(join(tmp.path, 'launcher/hello.txt'), 'utf8')).to.equal(body);
  });

  it('run by node itself, Node loads NODE_EXTRA_CA_CERTS and the download trusts it too', async () => {
    const r = await build('node', { ...baseEnv, NODE_EXTRA_CA_CERTS: caFile }, 'node');
    expect(r.code, r.stderr).to.equal(0);
    expect(readFileSync(join(tmp.path, 'node/hello.txt'), 'utf8')).to.equal(body);
  });

  it('the launcher passes arguments through unchanged and returns the exit code', async () => {
    const r = await run(bin, ['--root', join(tmp.path, 'store'), 'inspect', 'no such image'], baseEnv);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.include('no such image');
  });
});
