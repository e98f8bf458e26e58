/**
 * An HTTP proxy between client and registry that answers some requests
 * itself with a fault (a 500, a 429 with Retry-After, a reset connection)
 * and forwards the rest unchanged.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * `reset`: the connection is closed before anything is forwarded; `truncate`:
 * half the request body is forwarded, then both connections are closed;
 * `flip`: the response body is forwarded with one byte changed; `cut`: half
 * the response body is forwarded, then the connection is closed; `stall`:
 * the request is accepted and nothing is ever sent back (nor forwarded);
 * `stall-body`: the response headers and half the body are forwarded, then
 * nothing more (the connection stays open). Stalled connections end at close().
 * `ignore-range`: forwarded without its `Range` header (a registry that ignores Range).
 */
export type Fault = { status: number; retryAfter?: string } | 'reset' | 'truncate' | 'flip' | 'cut' | 'stall' | 'stall-body' | 'ignore-range';

export interface FaultProxy {
  host: string;
  /** Method and path of every request that reached the proxy, faulted or not. */
  seen: string[];
  /** Request body bytes forwarded to the registry (what an upload really sent). */
  readonly forwardedBytes: number;
  /** Response body bytes forwarded to clients so far. */
  bytesOut: number;
  /** Faults handed out in order to requests that `match`. */
  inject(match: (req: IncomingMessage) => boolean, faults: Fault[]): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const [targetHost, targetPort] = target.split(':');
  const seen: string[] = [];
  let forwardedBytes = 0;
  let bytesOut = 0;
  const rules: { match: (req: IncomingMessage) => boolean; faults: Fault[] }[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    const rule = rules.find((r) => r.faults.length > 0 && r.match(req));
    const fault = rule?.faults.shift();
    if (fault === 'reset') { req.socket.destroy(); return; }
    if (fault === 'stall') return;
    if (fault === 'truncate' || fault === 'flip' || fault === 'cut' || fault === 'stall-body') {
      forward(req, res, fault);
      return;
    }
    if (fault === 'ignore-range') {
      delete req.headers['range'];
      forward(req, res, undefined);
      return;
    }
    if (fault) {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) });
      res.end(JSON.stringify({ errors: [{ code: fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN', message: 'injected fault' }] }));
      return;
    }
    forward(req, res, undefined);
  });
  const forward = (req: IncomingMessage, res: ServerResponse, fault: 'truncate' | 'flip' | 'cut' | 'stall-body' | undefined) => {
    const upstream = httpRequest({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (fault === 'cut' || fault === 'stall-body') {
        const half = Math.floor(Number(up.headers['content-length'] ?? 0) / 2);
        let sent = 0;
        up.on('data', (c: Buffer) => {
          if (sent >= half) return;
          const part = c.subarray(0, half - sent);
          sent += part.length;
          bytesOut += part.length;
          res.write(part);
          if (sent < half) return;
          up.destroy();
          if (fault === 'cut') setTimeout(() => res.socket?.destroy(), 50);
        });
        return;
      }
      up.on('data', (c: Buffer) => { bytesOut += c.length; });
      if (fault !== 'flip') { up.pipe(res); return; }
      let flipped = false;
      up.on('data', (c: Buffer) => {
        if (!flipped && c.length > 0) { c = Buffer.from(c); c[c.length >> 1] ^= 0xff; flipped = true; }
        res.write(c);
      });
      up.on('end', () => res.end());
    });
    upstream.on('error', () => res.destroy());
    if (fault !== 'truncate') {
      req.on('data', (c: Buffer) => { forwardedBytes += c.length; });
      req.pipe(upstream);
      return;
    }
    const half = Math.floor(Number(req.headers['content-length'] ?? 0) / 2);
    let sent = 0;
    req.on('data', (c: Buffer) => {
      if (sent >= half) return;
      const part = c.subarray(0, half - sent);
      sent += part.length;
      forwardedBytes += part.length;
      upstream.write(part);
      if (sent >= half) setTimeout(() => { upstream.destroy(); req.socket.destroy(); }, 200);
    });
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    get forwardedBytes() { return forwardedBytes; },
    get bytesOut() { return bytesOut; },
    inject: (match, faults) => { rules.push({ match, faults: [...faults] }); },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
