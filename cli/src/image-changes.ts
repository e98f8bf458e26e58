/**
 * `--change` for `tsbuild import`, as `docker import --change` takes it: the
 * metadata instructions CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR,
 * VOLUME, STOPSIGNAL and ONBUILD applied to an image config.
 */
import { InvalidArgumentError, type ContainerConfig } from '@tsbuild/core';

export function applyChange(config: ContainerConfig, change: string): ContainerConfig {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(change);
  if (!m) throw bad(change, 'empty');
  const keyword = m[1]!.toUpperCase();
  const rest = m[2]!.trim();
  const next: ContainerConfig = { ...config };
  switch (keyword) {
    case 'CMD':
      next.Cmd = commandForm(rest, change);
      break;
    case 'ENTRYPOINT':
      next.Entrypoint = commandForm(rest, change);
      break;
    case 'ENV': {
      const env = [...(config.Env ?? [])];
      for (const [k, v] of keyValues(rest, change)) {
        const i = env.findIndex((e) => e.startsWith(`${k}=`));
        if (i >= 0) env[i] = `${k}=${v}`;
        else env.push(`${k}=${v}`);
      }
      next.Env = env;
      break;
    }
    case 'LABEL':
      next.Labels = { ...(config.Labels ?? {}), ...Object.fromEntries(keyValues(rest, change)) };
      break;
    case 'EXPOSE': {
      const ports = { ...(config.ExposedPorts ?? {}) };
      for (const p of rest.split(/\s+/).filter(Boolean)) ports[p.includes('/') ? p : `${p}/tcp`] = {};
      next.ExposedPorts = ports;
      break;
    }
    case 'VOLUME': {
      const vols = { ...(config.Volumes ?? {}) };
      const list = rest.startsWith('[') ? jsonArray(rest, change) : rest.split(/\s+/).filter(Boolean);
      for (const v of list) vols[v] = {};
      next.Volumes = vols;
      break;
    }
    case 'USER':
      next.User = rest;
      break;
    case 'WORKDIR':
      next.WorkingDir = rest.startsWith('/') ? rest : `${config.WorkingDir ?? '/'}/${rest}`.replace(/\/+/g, '/');
      break;
    case 'STOPSIGNAL':
      next.StopSignal = rest;
      break;
    case 'ONBUILD':
      next.OnBuild = [...(config.OnBuild ?? []), rest];
      break;
    default:
      throw bad(change, `${keyword} is not a metadata instruction`);
  }
  return next;
}

function commandForm(rest: string, change: string): string[] {
  if (rest.startsWith('[')) return jsonArray(rest, change);
  return ['/bin/sh', '-c', rest];
}

function jsonArray(rest: string, change: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(rest);
  } catch {
    throw bad(change, 'invalid JSON array');
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(change, 'expected a JSON array of strings');
  return v;
}

function keyValues(rest: string, change: string): Array<[string, string]> {
  if (!rest.includes('=')) {
    const m = /^(\S+)\s+(.*)$/s.exec(rest);
    if (!m) throw bad(change, 'expected KEY VALUE or KEY=VALUE');
    return [[m[1]!, m[2]!]];
  }
  const out: Array<[string, string]> = [];
  for (const word of rest.match(/(?:[^\s"']+|"(?:\\.|[^"])*"|'[^']*')+/g) ?? []) {
    const i = word.indexOf('=');
    if (i <= 0) throw bad(change, `expected KEY=VALUE, got ${word}`);
    out.push([word.slice(0, i), unquote(word.slice(i + 1))]);
  }
  return out;
}

function unquote(s: string): string {
  if (s.startsWith('"') && s.endsWith('"') && s.length >= 2) return s.slice(1, -1).replace(/\\(.)/g, '$1');
  if (s.startsWith("'") && s.endsWith("'") && s.length >= 2) return s.slice(1, -1);
  return s;
}

function bad(change: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid --change ${JSON.stringify(change)}: ${why}`, { code: 'INVALID_CHANGE' });
}
