/**
 * `tsbuild serve`: run the build server (@tsbuild/server) on this store
 * until SIGINT/SIGTERM; and `tsbuild certs create`: the CA and certificates
 * its mutual TLS needs.
 */
import { readFile } from 'node:fs/promises';
import type { Entitlement, ServerAddress } from '@tsbuild/server';
import { flag, list, str, type Command } from '../command.js';
import { parseGcKeepStorage } from '../build-flags.js';
import { lazyImagePuller } from '../build-puller.js';
import { openBuildDeps } from '../run-build.js';
import { storeFor } from '../store-access.js';
import { UsageError } from '../usage-error.js';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run a build server: one store, builds for many clients (tsbuild build --server)',
  usage: '[--addr unix:///PATH|tcp://HOST:PORT]... [OPTIONS]',
  help: [
    ['--addr ADDR', 'listen on unix:///PATH (default unix:///run/tsbuild/tsbuild.sock) or tcp://HOST:PORT (repeatable)'],
    ['--tls-cert, --tls-key FILE', "the server's certificate and key (PEM), for tcp:// addresses"],
    ['--tls-ca FILE', 'the CA client certificates must chain to: tcp:// requires mutual TLS'],
    ['--insecure-tcp', 'listen on tcp:// without TLS (anyone who can connect can build as this user): only for tests'],
    ['--group NAME|GID', "the unix socket's group (the socket is 0660)"],
    ['--max-parallel-builds N', 'builds running at once; more wait (default 4)'],
    ['--allow-insecure-entitlement E', "let clients --allow this entitlement: security.insecure, network.host (repeatable)"],
    ['--runtime crun|runc|PATH', 'the OCI runtime for RUN steps'],
    ['--gc-keep-storage SIZE', "GC the build cache down to SIZE at start-up, after builds (at most once a minute) and every 10 minutes (buildkitd's default gcpolicy; also TSBUILD_GC_KEEP_STORAGE)"],
  ],
  options: {
    addr: { type: 'string', multiple: true },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'tls-ca': { type: 'string' },
    'insecure-tcp': { type: 'boolean' },
    group: { type: 'string' },
    'max-parallel-builds': { type: 'string' },
    'allow-insecure-entitlement': { type: 'string', multiple: true },
    runtime: { type: 'string' },
    'gc-keep-storage': { type: 'string' },
  },
  async run(ctx, args) {
    const { parseAddress, startServer } = await import('@tsbuild/server');
    const addresses: ServerAddress[] = (list(args, 'addr').length ? list(args, 'addr') : ['unix:///run/tsbuild/tsbuild.sock']).map((a) => {
      try {
        return parseAddress(a);
      } catch (err) {
        throw new UsageError(`--addr: ${(err as Error).message}`);
      }
    });
    const parallel = str(args, 'max-parallel-builds');
    const maxParallelBuilds = parallel === undefined ? undefined : Number(parallel);
    if (maxParallelBuilds !== undefined && !(Number.isInteger(maxParallelBuilds) && maxParallelBuilds > 0)) throw new UsageError(`--max-parallel-builds: expected a positive integer, got ${JSON.stringify(parallel)}`);
    const keepBytes = parseGcKeepStorage(str(args, 'gc-keep-storage'), ctx.env);
    const tls = await tlsFiles(str(args, 'tls-cert'), str(args, 'tls-key'), str(args, 'tls-ca'));
    const group = str(args, 'group');
    const store = await storeFor(ctx);
    await store.reclaim();
    const runtime = str(args, 'runtime');
    const deps = await openBuildDeps({ store, ...(runtime ? { runtime } : {}), signal: ctx.signal });
    const puller = lazyImagePuller(store, async () => ({ credentials: (await import('@tsbuild/registry-client')).dockerConfigCredentials({ env: ctx.env }) }));
    const log = (line: string) => ctx.stderr.write(`${new Date().toISOString()} ${line}\n`);
    const server = await startServer({
      addresses,
      ...(tls ? { tls } : {}),
      insecureTcp: flag(args, 'insecure-tcp'),
      ...(group !== undefined ? { socketGroup: await groupId(group) } : {}),
      ...(maxParallelBuilds ? { maxParallelBuilds } : {}),
      allowInsecureEntitlements: entitlements(list(args, 'allow-insecure-entitlement')),
      ...(keepBytes !== undefined ? { gc: { keepBytes } } : {}),
      log,
    }, { ...deps, puller });
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    log('shutting down');
    await server.close();
    await puller.close();
    return 0;
  },
};

function entitlements(values: string[]): Entitlement[] {
  return values.flatMap((v) => v.split(',')).map((e) => {
    if (e !== 'security.insecure' && e !== 'network.host') throw new UsageError(`--allow-insecure-entitlement: unknown entitlement ${JSON.stringify(e)} (security.insecure, network.host)`);
    return e;
  });
}

async function tlsFiles(cert: string | undefined, key: string | undefined, ca: string | undefined): Promise<{ cert: Buffer; key: Buffer; ca: Buffer } | undefined> {
  if (cert === undefined && key === undefined && ca === undefined) return undefined;
  if (!cert || !key || !ca) throw new UsageError('--tls-cert, --tls-key and --tls-ca go together (mutual TLS)');
  return { cert: await readFile(cert), key: await readFile(key), ca: await readFile(ca) };
}

/** A group name (from /etc/group) or number. */
async function groupId(group: string): Promise<number> {
  if (/^\d+$/.test(group)) return Number(group);
  const line = (await readFile('/etc/group', 'utf8')).split('\n').find((l) => l.split(':')[0] === group);
  if (!line) throw new UsageError(`--group: no group ${JSON.stringify(group)} in /etc/group`);
  return Number(line.split(':')[2]);
}

export const certsCommand: Command = {
  name: 'certs',
  summary: 'Make a CA, a server certificate and client certificates for tsbuild serve',
  usage: 'create --out DIR [--server-name NAME]... [--client NAME]...',
  help: [
    ['--out DIR', 'write ca.pem, server.pem, client-NAME.pem and their -key.pem files here'],
    ['--server-name NAME', "a DNS name or IP of the server (repeatable; localhost and 127.0.0.1 are always in)"],
    ['--client NAME', 'make a client certificate with this CN (repeatable)'],
  ],
  options: { out: { type: 'string' }, 'server-name': { type: 'string', multiple: true }, client: { type: 'string', multiple: true } },
  async run(ctx, args) {
    if (args.positionals[0] !== 'create' || args.positionals.length !== 1) throw new UsageError('usage: tsbuild certs create --out DIR [--server-name NAME]... [--client NAME]...');
    const out = str(args, 'out');
    if (!out) throw new UsageError('--out DIR is required');
    const { createCerts } = await import('@tsbuild/server');
    const made = await createCerts({ out, serverNames: list(args, 'server-name'), clients: list(args, 'client') });
    const files = [made.ca.cert, made.server.cert, made.server.key, ...made.clients.flatMap((c) => [c.cert, c.key])];
    ctx.stdout.write(`wrote ${files.join(', ')} to ${out} (ca-key.pem signs more clients: keep it offline)\n`);
    return 0;
  },
};
