/**
 * A small token server (distribution docs/spec/auth/token.md): checks Basic
 * credentials against one user, grants what the scope asks, signs an RS256
 * JWT whose `x5c` header carries the signing certificate the registry trusts.
 * A POST with `grant_type=refresh_token` and the configured refresh token
 * stands for the user (the OAuth2 form docker uses with an identity token).
 */
import { createServer, type Server } from 'node:http';
import { createSign } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { KeyPair } from './pki.js';

export interface TokenServer {
  realm: string;
  /** Every request's query and whether it carried credentials. */
  requests: { scopes: string[]; user: string | undefined }[];
  close(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export async function startTokenServer(opts: { signing: KeyPair; service: string; issuer: string; user: string; password: string; refreshToken?: string; anonymousPull?: boolean; expiresIn?: number }): Promise<TokenServer> {
  const requests: TokenServer['requests'] = [];
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let scopes = url.searchParams.getAll('scope');
    const auth = req.headers.authorization;
    let user: string | undefined;
    if (req.method === 'POST') {
      // The OAuth2 refresh_token grant (docs/spec/auth/oauth.md): the refresh token stands for the user.
      let body = '';
      for await (const c of req) body += String(c);
      const form = new URLSearchParams(body);
      scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
      if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== opts.refreshToken) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid refresh token' }] }));
        requests.push({ scopes, user: undefined });
        return;
      }
      user = opts.user;
    }
    if (auth?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(auth.slice(6), 'base64').toString().split(':');
      if (u !== opts.user || p.join(':') !== opts.password) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }));
        requests.push({ scopes, user: u });
        return;
      }
      user = u;
    }
    requests.push({ scopes, user });
    const access = scopes.map((s) => {
      const [type, ...rest] = s.split(':');
      const actions = rest.pop()!.split(',');
      const granted = user ? actions : opts.anonymousPull ? actions.filter((a) => a === 'pull') : [];
      return { type, name: rest.join(':'), actions: granted };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [opts.signing.certDer.toString('base64')] };
    const claims = { iss: opts.issuer, sub: user ?? '', aud: opts.service, exp: now + 300, nbf: now - 10, iat: now, jti: String(Math.random()), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(input).sign(opts.signing.keyPem);
    res.writeHead(200, { 'content-type': 'application/json' });
    const token = `${input}.${b64url(sig)}`;
    res.end(JSON.stringify(req.method === 'POST' ? { access_token: token, expires_in: opts.expiresIn ?? 300 } : { token, expires_in: opts.expiresIn ?? 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { realm: `http://127.0.0.1:${port}/token`, requests, close: () => new Promise((r) => server.close(() => r())) };
}
