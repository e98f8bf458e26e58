/**
 * `login`/`logout` as docker does them: the credentials are checked against
 * the registry first (`GET /v2/` through its challenge — a token fetched
 * for no scope, or Basic), then stored where docker stores them: through
 * the registry's credential helper (`credHelpers`, else `credsStore`) with
 * `docker-credential-<name> store`, else as `auths[<key>].auth` in
 * config.json (written atomically, mode 0600, other keys kept). Logout
 * erases from the same place.
 */
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_REGISTRY, UnavailableError } from '@tsbuild/core';
import { RegistryClient, type RegistryClientOptions } from './client.js';
import { configKey, dockerConfigDir, helperFor, keyHost, readDockerConfig, runHelper, type Credentials } from './credentials.js';

/** `https://index.docker.io/v1/`, `registry-1.docker.io`, `host:5000/` → the registry name used in references. */
export function loginServer(input: string | undefined): string {
  if (!input) return DEFAULT_REGISTRY;
  const host = keyHost(input);
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DEFAULT_REGISTRY : host;
}

/** Checks the credentials with the registry; throws its RegistryError when they are refused. */
export async function verifyLogin(registry: string, credentials: Credentials, options: Omit<RegistryClientOptions, 'credentials'> & { signal?: AbortSignal } = {}): Promise<void> {
  const client = new RegistryClient({ ...options, credentials: async () => credentials });
  try {
    await client.checkAccess(registry, options.signal);
  } finally {
    await client.close();
  }
}

export interface ConfigLocation {
  dir?: string;
  env?: NodeJS.ProcessEnv;
}

/** Stores credentials; returns where (`config.json`, or the helper's name). */
export async function storeCredentials(registry: string, credentials: { username: string; password: string }, where: ConfigLocation = {}): Promise<string> {
  const dir = where.dir ?? dockerConfigDir(where.env);
  const config = await readDockerConfig(dir);
  const helper = helperFor(config, registry);
  if (helper) {
    const payload = JSON.stringify({ ServerURL: configKey(registry), Username: credentials.username, Secret: credentials.password });
    const { code, stdout } = await runHelper(helper, 'store', payload, where.env);
    if (code !== 0) throw new UnavailableError(`docker-credential-${helper} store: exit ${code}: ${stdout.trim()}`, { code: 'CREDENTIAL_HELPER_FAILED' });
    return `docker-credential-${helper}`;
  }
  const auths = { ...(config.auths ?? {}) };
  auths[configKey(registry)] = { auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64') };
  await writeConfig(dir, { ...config, auths });
  return join(dir, 'config.json');
}

/** Erases stored credentials; returns false when there were none in config.json (a helper's answer is not inspected). */
export async function eraseCredentials(registry: string, where: ConfigLocation = {}): Promise<boolean> {
  const dir = where.dir ?? dockerConfigDir(where.env);
  const config = await readDockerConfig(dir);
  const helper = helperFor(config, registry);
  let found = false;
  if (helper) {
    const { code } = await runHelper(helper, 'erase', configKey(registry), where.env);
    found = code === 0;
  }
  const auths = { ...(config.auths ?? {}) };
  for (const key of Object.keys(auths)) {
    if (key === configKey(registry) || keyHost(key) === keyHost(configKey(registry))) {
      delete auths[key];
      found = true;
    }
  }
  if (config.auths && Object.keys(auths).length !== Object.keys(config.auths).length) await writeConfig(dir, { ...config, auths });
  return found;
}

async function writeConfig(dir: string, config: object): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'config.json');
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}
