/**
 * `tsbuild serve`: one long-running process that owns one store and builds
 * for many clients over HTTP/2 (docs/server-protocol.md) — h2c on a unix
 * socket (0660, group configurable), h2 over mutual TLS on TCP (the client
 * must present a certificate from the server's CA: requestCert +
 * rejectUnauthorized). TCP without TLS is refused unless `insecureTcp`.
 *
 * All builds share one Solver, so identical steps in flight at once run once
 * (builder/src/solver/flight.ts), and one build cache. Each request is
 * handled on its own stream: a malformed or hostile one gets an error and
 * the session, the process and other clients' builds go on.
 */
import { createReadStream } from 'node:fs';
import { chmod, chown, lstat, mkdir, rm, unlink } from 'node:fs/promises';
import http2, { type Http2Server, type Http2Session, type Http2SecureServer, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { openBuildCache, openSolver, type BuildDeps } from '@tsbuild/builder';
import { FailedPreconditionError, InvalidArgumentError } from '@tsbuild/core';
import { formatAddress, type ServerAddress } from './address.js';
import { handleBuild, refuse, type BuildHandlerEnv, type Entitlement } from './build-handler.js';
import { ContextStore } from './context-sync.js';
import { CacheGc, type ServerGcOptions } from './gc.js';
import { ClientLimiter, DEFAULT_LIMITS, Slots, type Limits } from './limits.js';
import { Metrics } from './metrics.js';
import type { RemoteOutput } from './protocol.js';
import { sendEntries, walkTree } from './tree.js';
import { writeChunk } from './wire.js';

export interface ServeOptions {
  addresses: ServerAddress[];
  /** PEM texts: the server's certificate and key, and the CA its clients' certificates must chain to. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca: string | Buffer };
  /** Listen on TCP without TLS (anyone who can connect can build, read outputs and run containers as root). */
  insecureTcp?: boolean;
  /** The unix socket's group (gid); default the process's. */
  socketGroup?: number;
  /** Builds running at once; more wait. Default 4. */
  maxParallelBuilds?: number;
  /** Entitlements a client may ask for with `--allow` (buildkitd's --allow-insecure-entitlement); default none. */
  allowInsecureEntitlements?: Entitlement[];
  limits?: Partial<Limits>;
  /** Collect the build cache down to a cap after builds and periodically (`--gc-keep-storage`); default never. */
  gc?: ServerGcOptions;
  /** How long a finished build's outputs wait to be fetched; default 10 minutes. */
  outputTtlMs?: number;
  log?: (line: string) => void;
}

export interface BuildServer {
  /** The addresses listened on (a TCP port 0 resolved). */
  readonly addresses: string[];
  readonly metrics: Metrics;
  close(): Promise<void>;
}

interface KeptOutputs {
  client: string;
  outputs: Map<number, { type: RemoteOutput['type']; path: string }>;
  timer: NodeJS.Timeout;
}

export async function startServer(options: ServeOptions, deps: BuildDeps): Promise<BuildServer> {
  const log = options.log ?? (() => {});
  checkListeners(options, log);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const stateDir = join(deps.store.root, 'server');
  const buildsDir = join(stateDir, 'builds');
  // Outputs of builds a previous process ran are nobody's any more.
  await rm(buildsDir, { recursive: true, force: true });
  await mkdir(buildsDir, { recursive: true, mode: 0o700 });
  const metrics = new Metrics();
  const kept = new Map<string, KeptOutputs>();
  const dropOutputs = (build: string): void => {
    const k = kept.get(build);
    if (!k) return;
    clearTimeout(k.timer);
    kept.delete(build);
    void rm(join(buildsDir, build), { recursive: true, force: true });
  };
  let gc: CacheGc | undefined; // started once the server listens
  const env: BuildHandlerEnv = {
    deps: { ...deps, solver: deps.solver ?? openSolver(deps.store.root) },
    contexts: new ContextStore(join(stateDir, 'contexts')),
    buildsDir,
    limits,
    limiter: new ClientLimiter(limits),
    slots: new Slots(options.maxParallelBuilds ?? 4),
    metrics,
    entitlements: new Set(options.allowInsecureEntitlements ?? []),
    log,
    keepOutputs: (build, client, outputs) => {
      const timer = setTimeout(() => dropOutputs(build), options.outputTtlMs ?? 600_000);
      timer.unref();
      kept.set(build, { client, outputs: new Map(outputs.map((o) => [o.index, o])), timer });
    },
    buildFinished: () => gc?.request(),
  };
  const sessions = new Set<Http2Session>();
  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    stream.on('error', () => undefined); // a reset stream is the client's business; the request's own code sees it close
    const client = clientOf(stream.session);
    if (!client) return refuse(stream, env, 403, 'no client identity', 'unauthenticated');
    if (!env.limiter.admit(client.id)) return refuse(stream, env, 429, 'too many requests: slow down', 'rate');
    const method = headers[':method'];
    const path = headers[':path'] ?? '';
    const run = (p: Promise<void>): void => {
      p.catch((err: unknown) => {
        log(`request ${method} ${path.slice(0, 100)} failed: ${(err as Error).message}`);
        if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      });
    };
    if (method === 'GET' && path === '/healthz') {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      return void stream.end('ok\n');
    }
    if (method === 'GET' && path === '/metrics') return run(sendMetrics(stream, env, deps));
    if (method === 'POST' && path === '/v1/build') return run(handleBuild(stream, client, env));
    const out = /^\/v1\/builds\/([0-9a-f-]{36})\/outputs\/(\d{1,3})$/.exec(path);
    if (method === 'GET' && out) return run(sendOutput(stream, client.id, kept.get(out[1]!), Number(out[2]), () => dropOutputs(out[1]!), metrics));
    refuse(stream, env, 404, `no route ${method} ${path.slice(0, 100)}`, 'not-found');
  };
  const servers: Array<Http2Server | Http2SecureServer> = [];
  const addresses: string[] = [];
  const settings = { maxHeaderListSize: 16 * 1024, maxSessionMemory: 64 };
  try {
    for (const addr of options.addresses) {
      const server = addr.kind === 'tcp' && options.tls
        ? http2.createSecureServer({ cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2', maxSessionMemory: 64, settings })
        : http2.createServer({ maxSessionMemory: 64, settings });
      server.on('stream', onStream);
      server.on('session', (s: Http2Session) => {
        sessions.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sessions.delete(s));
      });
      server.on('sessionError', () => undefined);
      server.on('tlsClientError' as 'session', () => metrics.reject('tls'));
      servers.push(server);
      addresses.push(await listen(server, addr, options.socketGroup));
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    throw err;
  }
  for (const a of addresses) log(`listening on ${a}`);
  if (options.gc) gc = new CacheGc(deps.store, options.gc, metrics, log);
  gc?.request(); // as buildkitd at start-up: a store left over its cap shrinks before the first build
  return {
    addresses,
    metrics,
    close: async () => {
      const closed = Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      for (const s of sessions) s.destroy();
      await closed;
      await gc?.close();
      for (const build of [...kept.keys()]) dropOutputs(build);
      for (const a of options.addresses) if (a.kind === 'unix') await unlink(a.path).catch(() => undefined);
    },
  };
}

function checkListeners(options: ServeOptions, log: (line: string) => void): void {
  if (options.addresses.length === 0) throw new InvalidArgumentError('serve: no address to listen on', { code: 'SERVER_NO_ADDRESS' });
  for (const a of options.addresses) {
    if (a.kind !== 'tcp' || options.tls) continue;
    if (!options.insecureTcp) {
      throw new InvalidArgumentError(`serve: ${formatAddress(a)} needs mutual TLS (--tls-cert, --tls-key, --tls-ca); --insecure-tcp listens without it`, { code: 'SERVER_TCP_NEEDS_TLS' });
    }
    log(`WARNING: ${formatAddress(a)} listens WITHOUT TLS (--insecure-tcp): anyone who can connect can run builds as this server's user and read every client's outputs`);
  }
}

/** The peer's identity: its certificate's fingerprint on TLS (CN for logs); on a unix socket or plain TCP, the listener's kind. */
function clientOf(session: Http2Session | undefined): { id: string; name: string } | undefined {
  const socket = session?.socket as TLSSocket | undefined;
  if (!socket) return undefined;
  if (typeof socket.getPeerCertificate !== 'function') return { id: socket.remoteAddress ? 'tcp' : 'unix', name: socket.remoteAddress ?? 'unix' };
  const cert = socket.getPeerCertificate();
  if (!socket.authorized || !cert?.fingerprint256) return undefined;
  return { id: `cert:${cert.fingerprint256}`, name: String(cert.subject?.CN ?? cert.fingerprint256) };
}

async function listen(server: Http2Server | Http2SecureServer, addr: ServerAddress, group: number | undefined): Promise<string> {
  if (addr.kind === 'unix') {
    await mkdir(dirname(addr.path), { recursive: true, mode: 0o755 });
    const st = await lstat(addr.path).catch(() => undefined);
    if (st && !st.isSocket()) throw new FailedPreconditionError(`serve: ${addr.path} exists and is not a socket`, { code: 'SERVER_ADDRESS_IN_USE' });
    // A socket left by a killed server; one in use by a live server makes listen fail below (EADDRINUSE is not raised for unix sockets, so probe).
    if (st && (await socketAlive(addr.path))) throw new FailedPreconditionError(`serve: ${addr.path} is in use by a running server`, { code: 'SERVER_ADDRESS_IN_USE' });
    if (st) await unlink(addr.path);
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (addr.kind === 'unix') server.listen(addr.path, resolve);
    else server.listen(addr.port, addr.host, resolve);
  });
  if (addr.kind === 'unix') {
    await chmod(addr.path, 0o660);
    if (group !== undefined) await chown(addr.path, -1, group);
    return formatAddress(addr);
  }
  const port = (server.address() as { port: number }).port;
  return formatAddress({ ...addr, port });
}

function socketAlive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = http2.connect('http://localhost', { createConnection: () => connect(path) });
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

async function sendMetrics(stream: ServerHttp2Stream, env: BuildHandlerEnv, deps: BuildDeps): Promise<void> {
  const usage = await deps.store.du({ roots: [openBuildCache(deps.store.root)] }).catch(() => []);
  const text = env.metrics.text(usage);
  stream.respond({ ':status': 200, 'content-type': 'text/plain; version=0.0.4' });
  stream.end(text);
}

/** An output of a finished build, to the client that built it only: a file as is, a `local` tree as entries (tree.ts). */
async function sendOutput(stream: ServerHttp2Stream, client: string, k: KeptOutputs | undefined, index: number, drop: () => void, metrics: Metrics): Promise<void> {
  const out = k?.client === client ? k.outputs.get(index) : undefined;
  if (!k || !out) return refuse(stream, { metrics }, 404, 'no such output (fetched already, expired, or not yours)', 'not-found');
  stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
  if (out.type === 'local') {
    metrics.bytesSent += await sendEntries(out.path, await walkTree(out.path), stream);
  } else {
    for await (const chunk of createReadStream(out.path) as AsyncIterable<Buffer>) {
      await writeChunk(stream, chunk);
      metrics.bytesSent += chunk.length;
    }
  }
  stream.end();
  k.outputs.delete(index);
  if (k.outputs.size === 0) drop();
}
