/**
 * An HTTP proxy between client and registry that answers some requests
 * itself with a fault (a 500, a 429 with Retry-After, a reset connection)
 * and forwards the rest unchanged.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = { status: number; retryAfter?: string } | 'reset';

export interface FaultProxy {
  host: string;
  /** Method and path of every request that reached the proxy, faulted or not. */
  seen: string[];
  /** Faults handed out in order to requests that `match`. */
  inject(match: (req: IncomingMessage) => boolean, faults: Fault[]): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const [targetHost, targetPort] = target.split(':');
  const seen: string[] = [];
  const rules: { match: (req: IncomingMessage) => boolean; faults: Fault[] }[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push(`${req.method} ${req.url}`);
    const rule = rules.find((r) => r.faults.length > 0 && r.match(req));
    const fault = rule?.faults.shift();
    if (fault === 'reset') { req.socket.destroy(); return; }
    if (fault) {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) });
      res.end(JSON.stringify({ errors: [{ code: fault.status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN', message: 'injected fault' }] }));
      return;
    }
    const upstream = httpRequest({ host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    inject: (match, faults) => { rules.push({ match, faults: [...faults] }); },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
