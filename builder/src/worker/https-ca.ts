/**
 * `NODE_EXTRA_CA_CERTS`, loaded when a download first needs it rather than at
 * every start. Node reads that file into its TLS root store before any of our
 * code runs (~30 ms with a distribution's full CA bundle), though most
 * commands never open a TLS connection; the `tsbuild` launcher (cli/bin) hands
 * it over as `TSBUILD_EXTRA_CA_CERTS` instead, and `fetchTrusting` then sends
 * requests through an undici agent that trusts Node's own roots plus those,
 * which is what Node would have trusted. Run any other way (`node
 * cli/bin/tsbuild.js`, the programmatic API), Node loaded them itself and this
 * is the global fetch.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { rootCertificates } from 'node:tls';

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

let deferred: Promise<Fetch> | undefined;

/** `fetch`, trusting the extra CA certificates the launcher deferred, if any. */
export function fetchTrusting(url: string, init: RequestInit): Promise<Response> {
  const file = process.env.TSBUILD_EXTRA_CA_CERTS;
  if (!file || process.env.NODE_EXTRA_CA_CERTS) return fetch(url, init);
  deferred ??= withExtraCa(file);
  return deferred.then((f) => f(url, init));
}

async function withExtraCa(file: string): Promise<Fetch> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (err) {
    // As Node itself does with an unreadable NODE_EXTRA_CA_CERTS: warn, go on without.
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(err as Error).message}`);
    return fetch;
  }
  // require, not import(): the CLI bundle runs as a vm.Script, which has no dynamic-import hook on Node 20.
  const undici = createRequire(import.meta.url)('undici') as typeof import('undici');
  const dispatcher = new undici.Agent({ connect: { ca: [...rootCertificates, pem] } });
  return (url, init) => undici.fetch(url, { ...(init as object), dispatcher }) as unknown as Promise<Response>;
}
