/**
 * The client of a build server: `build(options)` run on the server at
 * `address`, with the same options, events and result as a local build
 * (docs/server-protocol.md). The context goes up incrementally (only files
 * the server's copy lacks), `env=`/`src=` secrets are read here and sent for
 * this build only, events come back to `onEvent` as the server's builder
 * emitted them, and `tar`/`oci`/`docker`/`local` outputs stream back to
 * their `dest` here. Aborting `signal` resets the stream: the server cancels
 * the build.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import http2, { type ClientHttp2Session, type ClientHttp2Stream } from 'node:http2';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SecretProvider, type BuildOptions, type BuildResult, type OutputSpec } from '@tsbuild/builder';
import { CanceledError, InvalidArgumentError, TsbuildError, UnavailableError } from '@tsbuild/core';
import { parseAddress } from './address.js';
import { fromWireError, PROTOCOL_VERSION, REMOTE_OPTION_KEYS, remoteCacheProblem, type BuildRequest, type RemoteOptions, type RemoteOutput, type RemoteSecret, type ResponseLine } from './protocol.js';
import { listContext, receiveEntries, sendEntries } from './tree.js';
import { ByteReader, jsonFrame, writeChunk } from './wire.js';

export interface ServerTarget {
  /** `unix:///path` or `tcp://host:port`. */
  address: string;
  /** Paths of PEM files: this client's certificate and key, and the CA the server's certificate chains to. Required for tcp:// unless `insecure`. */
  tls?: { cert: string; key: string; ca: string };
  /** tcp:// without TLS (only against a server started with --insecure-tcp). */
  insecure?: boolean;
}

export interface RemoteBuildResult extends BuildResult {
  /** What the context transfer cost: entries listed, files and bytes uploaded. */
  upload: { entries: number; files: number; bytes: number };
}

export interface RemoteBuildExtras {
  /** The server-side copy this context syncs with; default a digest of this host's name and the context's absolute path. */
  contextId?: string;
}

export async function remoteBuild(options: BuildOptions, target: ServerTarget, extras: RemoteBuildExtras = {}): Promise<RemoteBuildResult> {
  const contextDir = resolve(options.context);
  const dockerfilePath = resolve(options.dockerfile ?? join(contextDir, 'Dockerfile'));
  const rel = relative(contextDir, dockerfilePath);
  const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  const dockerfileText = options.dockerfileText ?? (await readFile(dockerfilePath, 'utf8'));
  const entries = await listContext(contextDir, dockerfilePath);
  const request: BuildRequest = {
    version: PROTOCOL_VERSION,
    contextId: extras.contextId ?? createHash('sha256').update(`${hostname()}\0${contextDir}`).digest('hex').slice(0, 32),
    dockerfile: inside ? rel : 'Dockerfile',
    dockerfileText,
    options: remoteOptions(options),
    outputs: (options.outputs ?? [{ type: 'image' }]).map(remoteOutput),
    secrets: await readSecrets(options),
    entries,
  };
  const session = await openSession(target, options.signal);
  try {
    const { result, upload } = await runBuild(session, request, contextDir, options);
    await fetchOutputs(session, result.build, result.outputs, options.outputs ?? [], options.signal);
    return { ...result.result, upload: { entries: entries.length, ...upload } };
  } finally {
    session.close();
  }
}

function remoteOptions(options: BuildOptions): RemoteOptions {
  if (options.ssh?.length) throw new InvalidArgumentError('--ssh is not supported with --server yet (the agent would have to be forwarded)', { code: 'SERVER_UNSUPPORTED' });
  for (const [name, v] of Object.entries(options.buildContexts ?? {})) {
    if (!v.startsWith('docker-image://')) throw new InvalidArgumentError(`--build-context ${name}=${v}: only docker-image:// contexts work with --server`, { code: 'SERVER_UNSUPPORTED' });
  }
  const cacheProblem = remoteCacheProblem(options);
  if (cacheProblem) throw new InvalidArgumentError(`--server: ${cacheProblem}`, { code: 'SERVER_UNSUPPORTED' });
  const out: Record<string, unknown> = {};
  for (const k of REMOTE_OPTION_KEYS) if (options[k] !== undefined) out[k] = options[k];
  return out as RemoteOptions;
}

function remoteOutput(o: OutputSpec): RemoteOutput {
  if (o.type === 'image') {
    if (o.push) throw new InvalidArgumentError('push=true is not supported with --server yet', { code: 'SERVER_UNSUPPORTED' });
    return { type: 'image', ...(o.name ? { name: o.name } : {}) };
  }
  if (o.type === 'oci' || o.type === 'docker') return { type: o.type, ...(o.name ? { name: o.name } : {}) };
  return { type: o.type };
}

/** The values, read here as a local build reads them (SecretProvider); a secret without a value is left out, as locally. */
async function readSecrets(options: BuildOptions): Promise<RemoteSecret[]> {
  const specs = options.secrets ?? [];
  const provider = new SecretProvider(specs, options.env ?? process.env, '');
  const out: RemoteSecret[] = [];
  for (const s of specs) {
    const value = await provider.read(s.id);
    if (value !== undefined) out.push({ id: s.id, value: Buffer.from(value).toString('base64'), ...(s.cacheMode ? { cacheMode: s.cacheMode } : {}) });
  }
  return out;
}

async function openSession(target: ServerTarget, signal: AbortSignal | undefined): Promise<ClientHttp2Session> {
  const addr = parseAddress(target.address);
  let session: ClientHttp2Session;
  if (addr.kind === 'unix') {
    session = http2.connect('http://localhost', { createConnection: () => connect(addr.path) });
  } else if (target.tls) {
    const [cert, key, ca] = await Promise.all([readFile(target.tls.cert), readFile(target.tls.key), readFile(target.tls.ca)]);
    session = http2.connect(`https://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`, { cert, key, ca, minVersion: 'TLSv1.2' });
  } else if (target.insecure) {
    session = http2.connect(`http://${addr.host}:${addr.port}`);
  } else {
    throw new InvalidArgumentError(`${target.address}: tcp needs --tls-cert, --tls-key and --tls-ca`, { code: 'SERVER_TCP_NEEDS_TLS' });
  }
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      session.destroy();
      reject(new CanceledError('canceled while connecting'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    session.once('connect', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    session.once('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new UnavailableError(`cannot reach the build server at ${target.address}: ${err.message}`, { code: 'SERVER_UNREACHABLE', cause: err }));
    });
  });
  session.on('error', () => undefined); // later errors surface on the streams
  return session;
}

type ResultLine = Extract<ResponseLine, { type: 'result' }>;

async function runBuild(session: ClientHttp2Session, request: BuildRequest, contextDir: string, options: BuildOptions): Promise<{ result: ResultLine; upload: { files: number; bytes: number } }> {
  const { signal } = options;
  if (signal?.aborted) throw new CanceledError('canceled');
  const stream = session.request({ ':method': 'POST', ':path': '/v1/build', 'content-type': 'application/octet-stream' });
  const onAbort = (): void => {
    stream.close(http2.constants.NGHTTP2_CANCEL);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const upload = { files: 0, bytes: 0 };
  let sending: Promise<void> | undefined;
  try {
    await writeChunk(stream, jsonFrame(request));
    await checkStatus(stream);
    for await (const line of lines(stream)) {
      if (line.type === 'need') {
        upload.files = line.files.length;
        // Sent while the response is read (HTTP/2 streams are full duplex); its failure is the stream's.
        sending = sendEntries(contextDir, line.files.map((i) => request.entries[i]!), stream).then((n) => {
          upload.bytes = n;
          stream.end();
        });
        sending.catch(() => undefined);
      } else if (line.type === 'event') {
        try {
          options.onEvent?.(line.event);
        } catch {
          // a listener's failure must not fail the build (as in a local build)
        }
      } else if (line.type === 'error') {
        throw fromWireError(line.error);
      } else if (line.type === 'result') {
        await sending;
        return { result: line, upload };
      }
    }
    if (signal?.aborted) throw new CanceledError('build canceled');
    throw new UnavailableError('the build server closed the build without a result (did it stop?)', { code: 'SERVER_STREAM_CLOSED' });
  } catch (err) {
    if (signal?.aborted && !(err instanceof CanceledError)) throw new CanceledError('build canceled', { cause: err });
    if (err instanceof TsbuildError) throw err;
    throw new UnavailableError(`the build server's stream failed: ${(err as Error).message}`, { code: 'SERVER_STREAM_FAILED', cause: err });
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!stream.destroyed) stream.close();
  }
}

/** Rejects with the server's error unless the response is 200. */
async function checkStatus(stream: ClientHttp2Stream): Promise<void> {
  const headers = await new Promise<http2.IncomingHttpHeaders>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('error', reject);
    stream.once('close', () => reject(new UnavailableError('the build server closed the stream before answering (over TCP: is this client\'s certificate signed by the server\'s CA?)', { code: 'SERVER_STREAM_CLOSED' })));
  });
  const status = Number(headers[':status']);
  if (status === 200) return;
  let body = '';
  for await (const chunk of stream) body += String(chunk);
  let message = body.trim();
  let code = 'SERVER_ERROR';
  try {
    const parsed = JSON.parse(body) as { error?: { code?: string; message?: string } };
    message = parsed.error?.message ?? message;
    code = parsed.error?.code ?? code;
  } catch {
    // not JSON: the text as it is
  }
  throw new TsbuildError(status === 429 ? 'Unavailable' : status === 403 ? 'PermissionDenied' : 'InvalidArgument', `build server: ${message} (HTTP ${status})`, { code });
}

/** NDJSON lines of the response, one object each. */
async function* lines(stream: ClientHttp2Stream): AsyncGenerator<ResponseLine> {
  let rest = '';
  for await (const chunk of stream) {
    rest += String(chunk);
    let nl: number;
    while ((nl = rest.indexOf('\n')) >= 0) {
      const text = rest.slice(0, nl);
      rest = rest.slice(nl + 1);
      if (text) yield JSON.parse(text) as ResponseLine;
    }
  }
}

async function fetchOutputs(session: ClientHttp2Session, build: string, outputs: ResultLine['outputs'], specs: readonly OutputSpec[], signal: AbortSignal | undefined): Promise<void> {
  for (const o of outputs) {
    const spec = specs[o.index];
    if (!spec || spec.type === 'image') continue;
    const stream = session.request({ ':method': 'GET', ':path': `/v1/builds/${build}/outputs/${o.index}` }, signal ? { signal } : {});
    await checkStatus(stream);
    if (spec.type === 'local') {
      await mkdir(spec.dest, { recursive: true });
      await receiveEntries(new ByteReader(stream), spec.dest, { frame: 64 * 1024 });
    } else if ('stream' in spec) {
      // An archive for a stream (the CLI's --load into the docker daemon): straight through.
      await pipeline(stream, spec.stream);
    } else {
      // Temp + rename: a reader never sees half an archive.
      const tmp = `${spec.dest}.tmp-${process.pid}`;
      try {
        await pipeline(stream, createWriteStream(tmp));
        await rename(tmp, spec.dest);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    }
  }
}
