/** A CA, and certificates it signs, made with node-forge for the tests' TLS registry and token signing. */
import forge from 'node-forge';

export interface KeyPair { certPem: string; keyPem: string; certDer: Buffer }

function makeCert(subjectCN: string, issuer: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } | undefined, extensions: object[]): { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey; pair: KeyPair } {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = `0${forge.util.bytesToHex(forge.random.getBytesSync(8))}`;
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  const subject = [{ name: 'commonName', value: subjectCN }];
  cert.setSubject(subject);
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : subject);
  cert.setExtensions(extensions);
  cert.sign(issuer ? issuer.key : keys.privateKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  const certDer = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { cert, key: keys.privateKey, pair: { certPem, keyPem: forge.pki.privateKeyToPem(keys.privateKey), certDer } };
}

export interface Pki { ca: KeyPair; server: KeyPair; client: KeyPair }

/** A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate. */
export function makePki(): Pki {
  const ca = makeCert('tsbuild test CA', undefined, [
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
  ]);
  const server = makeCert('127.0.0.1', ca, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
  ]);
  const client = makeCert('tsbuild test client', ca, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  return { ca: ca.pair, server: server.pair, client: client.pair };
}

/** A self-signed certificate whose key signs the token server's JWTs (it is its own root in the registry's bundle). */
export function makeSigningCert(): KeyPair {
  return makeCert('tsbuild test token issuer', undefined, [
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
  ]).pair;
}
