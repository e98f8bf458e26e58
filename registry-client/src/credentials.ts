/**
 * Credentials as docker keeps them: `$DOCKER_CONFIG/config.json` (else
 * `~/.docker/config.json`), `credHelpers[host]` first, then `credsStore`,
 * then `auths[host].auth` (base64 `user:password`) or `identitytoken`.
 * Docker Hub's key is `https://index.docker.io/v1/` (docker's
 * `registry.IndexServer`); other keys may be written as URLs and are
 * matched by host, as docker's `ConvertToHostname` does.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_REGISTRY, InvalidArgumentError, UnavailableError } from '@tsbuild/core';

export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth refresh token (docker's `identitytoken`, a helper's `<token>` user). */
  identityToken?: string;
}

/** Looks up the credentials for a registry name (`docker.io`, `localhost:5000`). */
export type CredentialSource = (registry: string) => Promise<Credentials | undefined>;

const DOCKER_HUB_CONFIG_KEY = 'https://index.docker.io/v1/';

export interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['DOCKER_CONFIG'] || join(homedir(), '.docker');
}

/** The key docker stores a registry's entry under. */
export function configKey(registry: string): string {
  return registry === DEFAULT_REGISTRY ? DOCKER_HUB_CONFIG_KEY : registry;
}

/** `https://host:5000/v1/` → `host:5000`. */
export function keyHost(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').split('/')[0]!;
}

export async function readDockerConfig(dir = dockerConfigDir()): Promise<DockerConfigFile> {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  try {
    return JSON.parse(text) as DockerConfigFile;
  } catch (err) {
    throw new InvalidArgumentError(`${file}: not valid JSON: ${(err as Error).message}`, { code: 'DOCKER_CONFIG_INVALID' });
  }
}

/** Credentials from an `auths` entry, or undefined. */
export function credentialsFromAuths(config: DockerConfigFile, registry: string): Credentials | undefined {
  const auths = config.auths ?? {};
  const wanted = keyHost(configKey(registry));
  const key = configKey(registry) in auths ? configKey(registry) : Object.keys(auths).find((k) => keyHost(k) === wanted);
  const entry = key === undefined ? undefined : auths[key];
  if (!entry) return undefined;
  const out: Credentials = {};
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new InvalidArgumentError(`docker config: the auth of ${key} is not base64 of user:password`, { code: 'DOCKER_CONFIG_INVALID' });
    out.username = decoded.slice(0, colon);
    out.password = decoded.slice(colon + 1);
  } else if (entry.username !== undefined) {
    out.username = entry.username;
    if (entry.password !== undefined) out.password = entry.password;
  }
  if (entry.identitytoken) out.identityToken = entry.identitytoken;
  return out.username !== undefined || out.identityToken ? out : undefined;
}

/** The helper program that holds a registry's credentials, if any. */
export function helperFor(config: DockerConfigFile, registry: string): string | undefined {
  return config.credHelpers?.[registry] ?? config.credHelpers?.[configKey(registry)] ?? config.credsStore ?? undefined;
}

export function dockerConfigCredentials(options: { dir?: string; env?: NodeJS.ProcessEnv } = {}): CredentialSource {
  return async (registry) => {
    const config = await readDockerConfig(options.dir ?? dockerConfigDir(options.env));
    const helper = helperFor(config, registry);
    if (helper) return helperGet(helper, configKey(registry), options.env);
    return credentialsFromAuths(config, registry);
  };
}

/** `docker-credential-<name> get` with the server URL on stdin (docker-credential-helpers protocol). */
async function helperGet(name: string, serverUrl: string, env?: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const { code, stdout } = await runHelper(name, 'get', serverUrl, env);
  if (code !== 0) {
    if (/credentials not found/i.test(stdout)) return undefined;
    throw new UnavailableError(`docker-credential-${name} get ${serverUrl}: exit ${code}: ${stdout.trim()}`, { code: 'CREDENTIAL_HELPER_FAILED' });
  }
  let parsed: { Username?: string; Secret?: string };
  try {
    parsed = JSON.parse(stdout) as typeof parsed;
  } catch {
    throw new UnavailableError(`docker-credential-${name} get ${serverUrl}: answer is not JSON`, { code: 'CREDENTIAL_HELPER_FAILED' });
  }
  if (!parsed.Secret) return undefined;
  if (parsed.Username === '<token>') return { identityToken: parsed.Secret };
  return { username: parsed.Username ?? '', password: parsed.Secret };
}

export function runHelper(name: string, action: 'get' | 'store' | 'erase', input: string, env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(`docker-credential-${name}`, [action], { env: env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.on('error', (err) => reject(new UnavailableError(`docker-credential-${name}: ${err.message}`, { code: 'CREDENTIAL_HELPER_FAILED', cause: err })));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}
