/**
 * One remote build, on one HTTP/2 stream (docs/server-protocol.md): read the
 * request frame, bring the client's context copy up to date (ask for the
 * files that changed, receive them), wait for a build slot, build with the
 * server's store and shared solver, and stream the build's events back as
 * NDJSON. The stream closing before the result (client gone, RST_STREAM) aborts the
 * build; the builder then kills its containers and leaves the store consistent.
 */
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import http2, { type ServerHttp2Stream } from 'node:http2';
import { join } from 'node:path';
import { build, type BuildDeps, type BuildEvent, type BuildOptions, type OutputSpec, type SecretSpec } from '@tsbuild/builder';
import { CanceledError, isCanceled, TsbuildError } from '@tsbuild/core';
import type { ContextStore } from './context-sync.js';
import type { ClientLimiter, Limits, Slots } from './limits.js';
import type { BuildOutcome, Metrics } from './metrics.js';
import { PROTOCOL_VERSION, REMOTE_OPTION_KEYS, remoteCacheProblem, toWireError, type BuildRequest, type RemoteOutput, type ResponseLine } from './protocol.js';
import { checkPath } from './tree.js';
import { ByteReader, ProtocolError } from './wire.js';

export interface BuildHandlerEnv {
  deps: BuildDeps;
  contexts: ContextStore;
  /** Where a build's outputs wait to be fetched: `<buildsDir>/<build id>/`. */
  buildsDir: string;
  limits: Limits;
  limiter: ClientLimiter;
  slots: Slots;
  metrics: Metrics;
  /** Entitlements the server grants to clients that ask (`--allow-insecure-entitlement`). */
  entitlements: ReadonlySet<Entitlement>;
  log: (line: string) => void;
  /** Keeps a finished build's outputs for its client to fetch. */
  keepOutputs: (build: string, client: string, outputs: Array<{ index: number; type: RemoteOutput['type']; path: string }>) => void;
  /** Told when a build has finished, however it ended (the GC runs after builds). */
  buildFinished: () => void;
}

export async function handleBuild(stream: ServerHttp2Stream, client: { id: string; name: string }, env: BuildHandlerEnv): Promise<void> {
  const release = env.limiter.startBuild(client.id);
  if (!release) return refuse(stream, env, 429, 'too many builds from this client at once', 'builds-per-client');
  const controller = new AbortController();
  let done = false;
  stream.on('close', () => {
    if (!done) controller.abort(new CanceledError('the client went away (stream closed)'));
  });
  const reader = new ByteReader(stream);
  let headersSent = false;
  const send = (line: ResponseLine): void => {
    if (stream.destroyed || stream.writableEnded) return;
    if (!headersSent) {
      stream.respond({ ':status': 200, 'content-type': 'application/x-ndjson' });
      headersSent = true;
    }
    const text = JSON.stringify(line) + '\n';
    env.metrics.bytesSent += Buffer.byteLength(text);
    stream.write(text);
  };
  const id = randomUUID();
  let outcome: BuildOutcome = 'failure';
  let context: Awaited<ReturnType<ContextStore['acquire']>> | undefined;
  try {
    const request = checkRequest(await reader.frame<BuildRequest>(env.limits.requestFrameBytes, 'build request'), env.limits);
    checkEntitlements(request, env.entitlements);
    context = await env.contexts.acquire(client.id, request.contextId);
    const need = await context.plan(request.entries);
    send({ type: 'need', files: need });
    const bytes = await context.receive(reader, { frame: env.limits.entryFrameBytes });
    env.metrics.contextFilesReceived += need.length;
    send({ type: 'context', files: need.length, bytes });
    const dir = join(env.buildsDir, id);
    const outputs = request.outputs.map((o, index) => ({ index, type: o.type, path: join(dir, `out-${index}`) }));
    if (outputs.some((o) => o.type !== 'image')) await mkdir(dir, { recursive: true, mode: 0o700 });
    env.metrics.buildsQueued++;
    const freeSlot = await env.slots.acquire(controller.signal).finally(() => env.metrics.buildsQueued--);
    env.metrics.buildsRunning++;
    env.log(`build ${id} client ${client.name}: started (${request.entries.length} context entries, ${need.length} files uploaded, ${bytes} bytes)`);
    try {
      const result = await build(buildOptions(request, context.tree, outputs, controller.signal, env, (event) => send({ type: 'event', event })), env.deps);
      const fetchable = outputs.filter((o) => o.type !== 'image');
      if (fetchable.length) env.keepOutputs(id, client.id, fetchable);
      outcome = 'success';
      done = true;
      send({ type: 'result', build: id, result, outputs: fetchable.map(({ index, type }) => ({ index, type })) });
    } finally {
      env.metrics.buildsRunning--;
      freeSlot();
    }
  } catch (err) {
    if (controller.signal.aborted || isCanceled(err)) outcome = 'canceled';
    if (!headersSent && err instanceof ProtocolError) {
      env.metrics.reject('bad-request');
      refuse(stream, env, err.status, err.message, undefined);
    } else send({ type: 'error', error: toWireError(err) });
  } finally {
    done = true;
    context?.release();
    release();
    env.metrics.bytesReceived += reader.consumed;
    env.metrics.buildsFinished[outcome]++;
    env.log(`build ${id} client ${client.name}: ${outcome}`);
    env.buildFinished();
    if (!stream.destroyed) endStream(stream);
  }
}

/** An error before the response began: an HTTP status and a JSON body. */
export function refuse(stream: ServerHttp2Stream, env: { metrics: Metrics }, status: number, message: string, reason: string | undefined): void {
  if (reason) env.metrics.reject(reason);
  if (stream.destroyed || stream.headersSent) return;
  const body = JSON.stringify({ error: { code: status === 429 ? 'SERVER_RATE_LIMITED' : status === 413 ? 'SERVER_REQUEST_TOO_LARGE' : 'SERVER_BAD_REQUEST', message } }) + '\n';
  stream.respond({ ':status': status, 'content-type': 'application/json' });
  endStream(stream, body);
}

/**
 * Ends the response, then resets the stream if the client is still sending
 * (RFC 9113 §8.1: a server may answer before the request is complete and
 * reset with NO_ERROR): an unread body must not hold the stream open.
 */
export function endStream(stream: ServerHttp2Stream, last?: string): void {
  stream.end(last, () => {
    if (!stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
  });
}

export type Entitlement = 'security.insecure' | 'network.host';

/**
 * BuildKit's rule (util/entitlements/entitlements.go WhiteList): a client that
 * asks for an entitlement the daemon does not grant fails at once, whether or
 * not a step uses it; a step using one the client did not ask for fails there
 * (the definition's check: "network.host is not allowed").
 */
function checkEntitlements(request: BuildRequest, granted: ReadonlySet<Entitlement>): void {
  const asked: Entitlement[] = [];
  if (request.options.allowInsecure === true) asked.push('security.insecure');
  if (request.options.allowNetworkHost === true) asked.push('network.host');
  for (const e of asked) {
    if (!granted.has(e)) throw new TsbuildError('PermissionDenied', `granting entitlement ${e} is not allowed by build daemon configuration`, { code: 'BUILD_ENTITLEMENT_DENIED' });
  }
}

/** The request's shape, checked before anything is done with it. */
function checkRequest(raw: BuildRequest | undefined, limits: Limits): BuildRequest {
  if (!raw || typeof raw !== 'object') throw new ProtocolError('build request: expected a JSON object');
  if (raw.version !== PROTOCOL_VERSION) throw new ProtocolError(`build request: protocol version ${String(raw.version)} (this server speaks ${PROTOCOL_VERSION})`);
  if (typeof raw.contextId !== 'string') throw new ProtocolError('build request: contextId is not a string');
  if (typeof raw.dockerfile !== 'string' || typeof raw.dockerfileText !== 'string') throw new ProtocolError('build request: dockerfile and dockerfileText must be strings');
  checkPath(raw.dockerfile);
  if (!Array.isArray(raw.entries) || raw.entries.length > limits.contextEntries) throw new ProtocolError(`build request: entries must be an array of at most ${limits.contextEntries}`);
  if (!raw.options || typeof raw.options !== 'object' || Array.isArray(raw.options)) throw new ProtocolError('build request: options is not an object');
  const unknown = Object.keys(raw.options).filter((k) => !(REMOTE_OPTION_KEYS as readonly string[]).includes(k));
  if (unknown.length) throw new ProtocolError(`build request: options ${unknown.join(', ')} cannot be used remotely`);
  const cacheProblem = remoteCacheProblem(raw.options);
  if (cacheProblem) throw new ProtocolError(`build request: ${cacheProblem}`);
  for (const v of Object.values(raw.options.buildContexts ?? {})) {
    if (typeof v !== 'string' || !v.startsWith('docker-image://')) throw new ProtocolError('build request: a remote build takes only docker-image:// build contexts');
  }
  if (!Array.isArray(raw.outputs) || raw.outputs.some((o) => !o || !['image', 'oci', 'docker', 'tar', 'local'].includes(o.type))) throw new ProtocolError('build request: bad outputs');
  if (!Array.isArray(raw.secrets) || raw.secrets.some((s) => !s || typeof s.id !== 'string' || typeof s.value !== 'string')) throw new ProtocolError('build request: bad secrets');
  return raw;
}

/**
 * The BuildOptions of a remote build: the context is the client's copy; the
 * environment holds nothing but the secrets' values (the builder reads
 * `env=` secrets from it: memory only, never a file); the context watcher
 * stays off (the copy only changes through this protocol); an entitlement is
 * granted only when the client asked for it (checkEntitlements: and the server allows it).
 */
function buildOptions(request: BuildRequest, tree: string, outputs: Array<{ type: RemoteOutput['type']; path: string }>, signal: AbortSignal, env: BuildHandlerEnv, onEvent: (e: BuildEvent) => void): BuildOptions {
  const secretEnv: NodeJS.ProcessEnv = {};
  const secrets: SecretSpec[] = request.secrets.map((s, i) => {
    secretEnv[`TSBUILD_SECRET_${i}`] = Buffer.from(s.value, 'base64').toString('utf8');
    return { id: s.id, env: `TSBUILD_SECRET_${i}`, ...(s.cacheMode === 'content' ? { cacheMode: 'content' as const } : {}) };
  });
  return {
    ...request.options,
    allowInsecure: request.options.allowInsecure === true,
    allowNetworkHost: request.options.allowNetworkHost === true,
    context: tree,
    dockerfile: join(tree, request.dockerfile),
    dockerfileText: request.dockerfileText,
    outputs: request.outputs.map((o, i): OutputSpec => outputSpec(o, outputs[i]!.path)),
    secrets,
    env: secretEnv,
    contextWatch: false,
    signal,
    onEvent: (e) => {
      if (e.type === 'vertex.completed') env.metrics.stepsExecuted++;
      else if (e.type === 'vertex.cached') env.metrics.stepsCached++;
      onEvent(e);
    },
  };
}

function outputSpec(o: RemoteOutput, path: string): OutputSpec {
  switch (o.type) {
    case 'image': return { type: 'image', ...(o.name ? { name: o.name } : {}) };
    case 'oci': case 'docker': return { type: o.type, dest: path, ...(o.name ? { name: o.name } : {}) };
    case 'tar': return { type: 'tar', dest: path };
    case 'local': return { type: 'local', dest: path };
  }
}
