/**
 * A real build server for the tests: a store with the busybox test image
 * (builder/test/build-support.ts), the real crun executor, certificates from
 * createCerts, listening on a unix socket and on 127.0.0.1 with mutual TLS.
 */
import { lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeBuildEnv, type BuildEnv } from '../../builder/test/build-support.js';
import { createCerts, parseAddress, remoteBuild, startServer, type BuildServer, type ServeOptions, type ServerTarget } from '../src/index.js';

export interface ServerEnv {
  env: BuildEnv;
  server: BuildServer;
  unix: ServerTarget;
  /** A TCP target presenting client `name`'s certificate (alice or bob). */
  tcp(name?: 'alice' | 'bob'): ServerTarget;
  certs: string;
  log: string[];
  close(): Promise<void>;
}

export async function startTestServer(prefix: string, options: Partial<ServeOptions> = {}): Promise<ServerEnv> {
  const env = await makeBuildEnv(prefix);
  const certs = join(env.dir, 'certs');
  await createCerts({ out: certs, clients: ['alice', 'bob'] });
  const sock = join(env.dir, 'run', 'tsbuild.sock');
  const log: string[] = [];
  const pem = (f: string) => readFileSync(join(certs, f));
  const server = await startServer({
    addresses: [parseAddress(`unix://${sock}`), parseAddress('tcp://127.0.0.1:0')],
    tls: { cert: pem('server.pem'), key: pem('server-key.pem'), ca: pem('ca.pem') },
    log: (l) => log.push(l),
    ...options,
  }, { store: env.store, executor: env.executor });
  const tcpAddress = server.addresses.find((a) => a.startsWith('tcp://'))!;
  return {
    env, server, certs, log,
    unix: { address: `unix://${sock}` },
    tcp: (name = 'alice') => ({ address: tcpAddress, tls: { cert: join(certs, `client-${name}.pem`), key: join(certs, `client-${name}-key.pem`), ca: join(certs, 'ca.pem') } }),
    close: async () => {
      await server.close();
      env.cleanup();
    },
  };
}

/** Writes `files` under `dir` (made), returning `dir`. */
export function writeContext(dir: string, files: Record<string, string>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** Every file named `name` under `dir`, recursively. */
export function findFiles(dir: string, name: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) out.push(...findFiles(p, name));
    else if (entry === name) out.push(p);
  }
  return out;
}

export { remoteBuild };
