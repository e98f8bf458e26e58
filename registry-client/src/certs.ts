/**
 * Per-registry TLS material in docker's `certs.d` layout
 * (`/etc/docker/certs.d/<host[:port]>/`): every `*.crt` is a CA, every
 * `*.cert` with its `*.key` a client certificate — as dockerd's
 * `registry.ReadCertsDirectory` reads it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidArgumentError } from '@tsbuild/core';

export interface TlsMaterial {
  ca?: string[];
  cert?: string;
  key?: string;
}

export const DEFAULT_CERTS_DIR = '/etc/docker/certs.d';

export async function loadCertsDir(host: string, root = DEFAULT_CERTS_DIR): Promise<TlsMaterial> {
  const dir = join(root, host);
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return {};
  }
  const out: TlsMaterial = {};
  for (const name of names) {
    if (name.endsWith('.crt')) (out.ca ??= []).push(await readFile(join(dir, name), 'utf8'));
    if (name.endsWith('.cert')) {
      const keyName = `${name.slice(0, -'.cert'.length)}.key`;
      if (!names.includes(keyName)) {
        throw new InvalidArgumentError(`${join(dir, name)}: client certificate without its key ${keyName}`, { code: 'REGISTRY_CERTS_INVALID' });
      }
      out.cert = await readFile(join(dir, name), 'utf8');
      out.key = await readFile(join(dir, keyName), 'utf8');
    }
  }
  return out;
}

/**
 * The extra CA files Node would trust: `NODE_EXTRA_CA_CERTS`, and
 * `TSBUILD_EXTRA_CA_CERTS` (the `tsbuild` launcher moves the former there so
 * Node does not load it at every start). Passing `ca` to a connection
 * replaces Node's store, so both are added back explicitly. An unreadable
 * file is skipped, as Node skips it.
 */
export async function envExtraCa(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const files = [env['NODE_EXTRA_CA_CERTS'], env['TSBUILD_EXTRA_CA_CERTS']].filter((f): f is string => !!f);
  const out: string[] = [];
  for (const file of new Set(files)) {
    const pem = await readFile(file, 'utf8').catch(() => undefined);
    if (pem) out.push(pem);
  }
  return out;
}
