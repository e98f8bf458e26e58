/**
 * `--load`: the built image into the local docker daemon, as buildx's docker
 * driver does — the `docker` exporter's archive (the same tar `-o
 * type=docker,dest=…` writes) streamed as the body of the Engine API's
 * `POST /images/load` over dockerd's unix socket. No temporary file, no
 * `docker` CLI.
 *
 * The socket is DOCKER_HOST's (`unix://PATH`) or /var/run/docker.sock, as the
 * docker CLI chooses it. The daemon is asked (`GET /_ping`) before the build
 * starts, so a missing daemon costs no build time: one error line naming the
 * socket tried.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { FailedPreconditionError, UnavailableError } from '@tsbuild/core';

const DEFAULT_SOCKET = '/var/run/docker.sock';

export function dockerSocket(env: NodeJS.ProcessEnv): string {
  const host = env.DOCKER_HOST;
  if (host === undefined || host === '') return DEFAULT_SOCKET;
  if (!host.startsWith('unix://')) {
    throw new FailedPreconditionError(`--load: DOCKER_HOST=${host}: only a unix:// socket is supported`, { code: 'DOCKER_HOST_UNSUPPORTED' });
  }
  return host.slice('unix://'.length);
}

/** Resolves when a daemon answers `GET /_ping` at `socket`; else a DOCKER_DAEMON_UNAVAILABLE error naming it. */
export async function pingDocker(socket: string, signal?: AbortSignal): Promise<void> {
  try {
    const res = await send(request({ socketPath: socket, method: 'GET', path: '/_ping', ...(signal ? { signal } : {}) }).end());
    const body = await text(res);
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${body.trim()}`);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UnavailableError(`--load: no docker daemon answers at ${socket} (${why})`, { code: 'DOCKER_DAEMON_UNAVAILABLE', cause: err });
  }
}

/**
 * A Writable that is the body of `POST /images/load`. The request opens at
 * the first write (no connection idles through the build), and `final`
 * waits for the daemon's answer: the stream finishes only once the image is
 * loaded, and fails with the daemon's own message when it is not.
 */
export function dockerLoadStream(socket: string): Writable {
  let req: ClientRequest | undefined;
  let answered: Promise<void> | undefined;
  const open = (stream: Writable): ClientRequest => {
    if (req) return req;
    req = request({ socketPath: socket, method: 'POST', path: '/images/load?quiet=1', headers: { 'Content-Type': 'application/x-tar' } });
    answered = send(req).then(loadOutcome);
    // A refusal can come while the body is still being sent: fail the stream at once.
    answered.catch((err: Error) => stream.destroy(err));
    return req;
  };
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      open(this).write(chunk, (err) => callback(err ?? undefined));
    },
    final(callback) {
      open(this).end();
      answered!.then(() => callback(), callback);
    },
    destroy(err, callback) {
      if (err) req?.destroy(err);
      callback(err);
    },
  });
}

/** The load answer: a non-200 status carries `{"message"}`; a 200 stream may still carry `{"errorDetail":…}` lines. */
async function loadOutcome(res: IncomingMessage): Promise<void> {
  const body = await text(res);
  const messages = body.split('\n').filter((l) => l.trim()).map((l) => {
    try {
      return JSON.parse(l) as { message?: string; error?: string; errorDetail?: { message?: string } };
    } catch {
      return { message: l };
    }
  });
  const failure = res.statusCode !== 200 ? messages[0]?.message ?? `HTTP ${res.statusCode}` : messages.find((m) => m.error || m.errorDetail)?.error;
  if (failure !== undefined) throw new UnavailableError(`--load: the docker daemon refused the image: ${failure.trim()}`, { code: 'DOCKER_LOAD_FAILED' });
}

function send(req: ClientRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
}

async function text(res: IncomingMessage): Promise<string> {
  let s = '';
  res.setEncoding('utf8');
  for await (const chunk of res) s += chunk as string;
  return s;
}
