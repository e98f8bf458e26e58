/**
 * Starts Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with a
 * free port and a temp storage/config dir, in one of the set-ups the tests
 * need: plain HTTP, TLS, htpasswd Basic, or token auth. Throws when the
 * binary is missing: on this project's machines it is installed.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyPair, Pki } from './pki.js';

export interface RegistryOptions {
  tls?: Pki;
  /** With tls: require a client certificate signed by the test CA. */
  clientAuth?: boolean;
  htpasswd?: { user: string; password: string };
  token?: { realm: string; service: string; issuer: string; signing: KeyPair };
}

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'tsbuild-registry-'));
  const port = await freePort();
  const lines = [
    'version: 0.1',
    'log: { level: error, accesslog: { disabled: true } }',
    `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
    'http:',
    `  addr: 127.0.0.1:${port}`,
  ];
  if (options.tls) {
    await writeFile(join(dir, 'server.crt'), options.tls.server.certPem);
    await writeFile(join(dir, 'server.key'), options.tls.server.keyPem);
    await writeFile(join(dir, 'client-ca.crt'), options.tls.ca.certPem);
    const clientCas = options.clientAuth ? `, clientcas: [${join(dir, 'client-ca.crt')}]` : '';
    lines.push(`  tls: { certificate: ${join(dir, 'server.crt')}, key: ${join(dir, 'server.key')}${clientCas} }`);
  }
  if (options.htpasswd) {
    const entry = execFileSync('htpasswd', ['-Bbn', options.htpasswd.user, options.htpasswd.password], { encoding: 'utf8' });
    await writeFile(join(dir, 'htpasswd'), entry.trim() + '\n');
    lines.push(`auth: { htpasswd: { realm: test-realm, path: ${join(dir, 'htpasswd')} } }`);
  }
  if (options.token) {
    await writeFile(join(dir, 'token-root.crt'), options.token.signing.certPem);
    lines.push(`auth: { token: { realm: "${options.token.realm}", service: ${options.token.service}, issuer: ${options.token.issuer}, rootcertbundle: ${join(dir, 'token-root.crt')} } }`);
  }
  await writeFile(join(dir, 'config.yml'), lines.join('\n') + '\n');
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await waitForPort(port, child, () => stderr);
  return {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not listen on ${port}: ${stderr()}`);
}
