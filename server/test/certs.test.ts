/**
 * `createCerts`: a CA and certificates that node's own TLS accepts for mutual
 * authentication — checked with node's X509Certificate, and by a real TLS
 * handshake on 127.0.0.1 with each client certificate.
 */
import { expect } from 'chai';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { tempDir } from '../../test/support/fixtures.js';
import { createCerts } from '../src/index.js';

describe('certs create (node-forge)', function () {
  this.timeout(60_000);
  let t: ReturnType<typeof tempDir>;
  before(() => (t = tempDir('tsbuild-certs-')));
  after(() => t.cleanup());

  it('makes a CA, a server certificate for the names plus localhost and 127.0.0.1, and client certificates that chain to the CA', async () => {
    const made = await createCerts({ out: t.path, serverNames: ['build.example.com', '10.0.0.7'], clients: ['ci-1', 'ci-2'] });
    const pem = (f: string) => readFileSync(join(t.path, f));
    const ca = new X509Certificate(pem(made.ca.cert));
    const server = new X509Certificate(pem(made.server.cert));
    expect(ca.ca).to.equal(true);
    expect(server.verify(ca.publicKey)).to.equal(true);
    expect(server.subjectAltName).to.equal('DNS:build.example.com, IP Address:10.0.0.7, DNS:localhost, IP Address:127.0.0.1');
    expect(made.clients.map((c) => c.name)).to.deep.equal(['ci-1', 'ci-2']);
    for (const c of made.clients) {
      const cert = new X509Certificate(pem(c.cert));
      expect(cert.verify(ca.publicKey)).to.equal(true);
      expect(cert.subject).to.equal(`CN=${c.name}`);
      expect(cert.ca).to.equal(false);
      expect(statSync(join(t.path, c.key)).mode & 0o777).to.equal(0o600);
    }
  });

  it('the certificates complete a mutual TLS handshake on 127.0.0.1, and the server learns the client CN', async () => {
    const pem = (f: string) => readFileSync(join(t.path, f));
    const server = createServer({ cert: pem('server.pem'), key: pem('server-key.pem'), ca: pem('ca.pem'), requestCert: true, rejectUnauthorized: true }, (s: TLSSocket) => {
      s.end(String(s.getPeerCertificate().subject.CN));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const cn = await new Promise<string>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port, ca: pem('ca.pem'), cert: pem('client-ci-1.pem'), key: pem('client-ci-1-key.pem') });
        let body = '';
        s.on('data', (c) => (body += String(c)));
        s.on('end', () => resolve(body));
        s.on('error', reject);
      });
      expect(cn).to.equal('ci-1');
    } finally {
      server.close();
    }
  });

  it('refuses a client name that could not be a file name', async () => {
    const err = await createCerts({ out: join(t.path, 'bad'), clients: ['../evil'] }).then(() => undefined, (e: Error) => e);
    expect(err?.message).to.match(/letters, digits/);
  });
});
