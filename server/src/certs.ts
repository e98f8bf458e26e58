/**
 * `tsbuild certs create`: a private CA and the certificates a server and its
 * clients need for mutual TLS, made with node-forge (its RSA key generation
 * uses node's crypto when present). The server certificate's subjectAltName
 * holds the given names plus localhost and 127.0.0.1, so a loopback client
 * verifies it; client certificates carry the client's name as CN and are
 * usable only for client authentication.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { InvalidArgumentError } from '@tsbuild/core';
import forge from 'node-forge';

export interface CreateCertsOptions {
  out: string;
  /** DNS names or IP addresses of the server; localhost and 127.0.0.1 are always added. */
  serverNames?: string[];
  /** One client certificate per name (its CN). */
  clients?: string[];
  /** Validity in days; default 825 (what browsers still accept for leaf certificates). */
  days?: number;
}

/** The files written, relative to `out`. */
export interface CreatedCerts {
  ca: { cert: string; key: string };
  server: { cert: string; key: string };
  clients: Array<{ name: string; cert: string; key: string }>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export async function createCerts(options: CreateCertsOptions): Promise<CreatedCerts> {
  const clients = options.clients ?? [];
  for (const c of clients) {
    if (!NAME.test(c)) throw new InvalidArgumentError(`client name ${JSON.stringify(c)}: letters, digits, '.', '_' and '-' only (it names files)`, { code: 'CERTS_BAD_NAME' });
  }
  const days = options.days ?? 825;
  await mkdir(options.out, { recursive: true, mode: 0o700 });
  const ca = makeCa(days);
  const written: CreatedCerts = { ca: await save(options.out, 'ca', ca), server: await save(options.out, 'server', makeServer(ca, options.serverNames ?? [], days)), clients: [] };
  for (const name of clients) written.clients.push({ name, ...(await save(options.out, `client-${name}`, makeClient(ca, name, days))) });
  return written;
}

interface Issued {
  cert: forge.pki.Certificate;
  keys: forge.pki.rsa.KeyPair;
}

function makeCa(days: number): Issued {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = certificate(keys.publicKey, [{ name: 'commonName', value: 'tsbuild CA' }], days);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { cert, keys };
}

function makeServer(ca: Issued, names: string[], days: number): Issued {
  const all = [...new Set([...names, 'localhost', '127.0.0.1'])];
  const altNames = all.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n }));
  return issue(ca, names[0] ?? 'localhost', days, [
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
}

function makeClient(ca: Issued, name: string, days: number): Issued {
  return issue(ca, name, days, [{ name: 'extKeyUsage', clientAuth: true }]);
}

function issue(ca: Issued, commonName: string, days: number, extensions: object[]): Issued {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const cert = certificate(keys.publicKey, [{ name: 'commonName', value: commonName }], days);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    ...extensions,
  ]);
  cert.sign(ca.keys.privateKey, forge.md.sha256.create());
  return { cert, keys };
}

function certificate(publicKey: forge.pki.PublicKey, subject: forge.pki.CertificateField[], days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive 128-bit serial (the top bit clear: DER integers are signed).
  cert.serialNumber = '00' + forge.util.bytesToHex(forge.random.getBytesSync(16));
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  cert.setSubject(subject);
  return cert;
}

/** PEM files `<base>.pem` and `<base>-key.pem` (the key 0600). */
async function save(dir: string, base: string, issued: Issued): Promise<{ cert: string; key: string }> {
  const cert = `${base}.pem`;
  const key = `${base}-key.pem`;
  await writeFile(join(dir, cert), forge.pki.certificateToPem(issued.cert));
  await writeFile(join(dir, key), forge.pki.privateKeyToPem(issued.keys.privateKey), { mode: 0o600 });
  await chmod(join(dir, key), 0o600);
  return { cert, key };
}
