/**
 * Parsers for the structured values of `tsbuild build` flags, with buildx's
 * syntax: CSV `key=value` lists for --secret, --output and --ssh, `K=V` pairs
 * for --build-arg, --label and --build-context. Pure; a bad value throws a
 * UsageError that names the flag (exit 2). Secret values never pass through
 * here — only where to read them from — so no message can leak one.
 */
import type { OutputSpec, SecretSpec, SshSpec } from '@tsbuild/builder';
import { UsageError } from './usage-error.js';

/** Splits `a=1,"b=x,y",c` like buildx's csv reader: double quotes protect commas. */
export function splitCsv(value: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '"') {
      if (quoted && value[i + 1] === '"') {
        cur += '"';
        i++;
      } else quoted = !quoted;
    } else if (c === ',' && !quoted) {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) throw new Error('unterminated quote');
  fields.push(cur);
  return fields.map((f) => f.trim()).filter((f) => f !== '');
}

/** `K=V` → [K, V]; the key must be non-empty. */
export function keyValue(flag: string, value: string): [string, string] {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new UsageError(`${flag}: expected KEY=VALUE, got ${JSON.stringify(value)}`);
  return [value.slice(0, eq), value.slice(eq + 1)];
}

/** `--build-arg K=V`, or `--build-arg K` taking K from the environment (skipped when unset, like docker). */
export function parseBuildArgs(values: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    if (v === '' || v.startsWith('=')) throw new UsageError(`--build-arg: expected KEY=VALUE or KEY, got ${JSON.stringify(v)}`);
    if (v.includes('=')) {
      const [k, val] = keyValue('--build-arg', v);
      out[k] = val;
    } else if (env[v] !== undefined) out[v] = env[v]!;
  }
  return out;
}

export interface ParsedSecret extends SecretSpec {
  /** `required`: fail before the build when the source is missing. */
  required?: boolean;
}

/** `--secret id=ID,src=PATH|env=VAR[,type=file|env][,cache=content][,required]` (`source=` = `src=`). */
export function parseSecret(value: string): ParsedSecret {
  const fields = csvFields('--secret', value);
  let id: string | undefined;
  let type: string | undefined;
  let src: string | undefined;
  let env: string | undefined;
  const spec: Partial<ParsedSecret> = {};
  for (const [k, v] of fields) {
    switch (k) {
      case 'id': id = v; break;
      case 'type':
        if (v !== 'file' && v !== 'env') throw new UsageError(`--secret: unsupported type ${JSON.stringify(v)} (file or env)`);
        type = v;
        break;
      case 'src': case 'source': src = v; break;
      case 'env': env = v; break;
      case 'cache':
        if (v !== 'content') throw new UsageError(`--secret: unsupported cache mode ${JSON.stringify(v)} (content)`);
        spec.cacheMode = 'content';
        break;
      case 'required': spec.required = bool('--secret', k, v); break;
      default: throw new UsageError(`--secret: unexpected key ${JSON.stringify(k)}`);
    }
  }
  if (!id) throw new UsageError('--secret: id= is required');
  if (src !== undefined && env !== undefined) throw new UsageError(`--secret ${id}: give src= or env=, not both`);
  // type=env,src=VAR names a variable, as in buildx; without a source the id names one.
  if (type === 'env' && src !== undefined) [env, src] = [src, undefined];
  if (src === undefined && env === undefined) {
    if (type === 'file') throw new UsageError(`--secret ${id}: type=file needs src=PATH`);
    env = id;
  }
  return { id, ...(src !== undefined ? { src } : {}), ...(env !== undefined ? { env } : {}), ...spec };
}

/** `--ssh default` or `--ssh ID=PATH[,PATH…]` (agent sockets or keys; default $SSH_AUTH_SOCK). */
export function parseSsh(value: string): SshSpec {
  const eq = value.indexOf('=');
  const id = eq < 0 ? value : value.slice(0, eq);
  if (!/^[A-Za-z0-9_.-]+$/.test(id)) throw new UsageError(`--ssh: invalid id ${JSON.stringify(id)}`);
  if (eq < 0) return { id };
  const paths = value.slice(eq + 1).split(',').filter(Boolean);
  if (paths.length === 0) throw new UsageError(`--ssh ${id}: expected a path after "="`);
  return { id, paths };
}

/** Image-wide choices buildx takes inside `--output` (`oci-mediatypes=`, `compression=`), hoisted into BuildOptions. */
export interface OutputImageOptions {
  mediaTypes?: 'oci' | 'docker';
  compression?: 'gzip' | 'zstd' | 'none';
  /** `force-compression=true`: layers compressed another way are re-encoded too. */
  forceCompression?: boolean;
  /** `compression-level=N`, for the layers compressed for a push or an archive. */
  compressionLevel?: number;
}

/** `-o type=docker` without `dest`: load into the docker daemon (docker-load.ts), as `--load`. */
export interface DockerLoadOutput {
  type: 'docker';
  load: true;
  name?: string[];
}

/**
 * `-o type=image|registry|oci|docker|local|tar,dest=…[,name=…][,push=true][,oci-mediatypes=true|false]
 * [,compression=gzip|zstd|uncompressed][,compression-level=N][,force-compression=true]`;
 * a bare `-o DIR` is `type=local,dest=DIR`. `type=registry` is `type=image,push=true`
 * (buildx's alias). The compression keys are BuildKit's (util/compression/attrs.go
 * ParseAttributes).
 */
export function parseOutput(value: string, image: OutputImageOptions = {}): OutputSpec | DockerLoadOutput {
  if (!value.includes('=')) {
    if (value === '' || value === '-') throw new UsageError(`--output: expected a directory or type=…, got ${JSON.stringify(value)}`);
    return { type: 'local', dest: value };
  }
  let type: string | undefined;
  let dest: string | undefined;
  let push: boolean | undefined;
  const names: string[] = [];
  for (const [k, v] of csvFields('--output', value)) {
    if (k === 'type') type = v;
    else if (k === 'dest') dest = v;
    else if (k === 'name') names.push(...v.split(',').filter(Boolean));
    else if (k === 'push') push = bool('--output', k, v);
    else if (k === 'oci-mediatypes') image.mediaTypes = bool('--output', k, v) ? 'oci' : 'docker';
    else if (k === 'compression') image.compression = outputCompression(v);
    else if (k === 'force-compression') image.forceCompression = bool('--output', k, v);
    else if (k === 'compression-level') image.compressionLevel = compressionLevel(v);
    else throw new UsageError(`--output: unexpected key ${JSON.stringify(k)}`);
  }
  switch (type) {
    case 'registry':
      return { type: 'image', ...(names.length ? { name: names } : {}), push: push ?? true };
    case 'image':
      return { type, ...(names.length ? { name: names } : {}), ...(push !== undefined ? { push } : {}) };
    case 'docker':
      // buildx: type=docker without dest loads the image into the docker daemon (what --load is shorthand for).
      if (dest === undefined) return { type, load: true, ...(names.length ? { name: names } : {}) };
      return { type, dest: needDest(type, dest), ...(names.length ? { name: names } : {}) };
    case 'oci':
      return { type, dest: needDest(type, dest), ...(names.length ? { name: names } : {}) };
    case 'local': case 'tar':
      return { type, dest: needDest(type, dest) };
    default:
      throw new UsageError(`--output: ${type ? `unknown type ${JSON.stringify(type)}` : 'type= is required'} (image, registry, oci, docker, local or tar)`);
  }
}

function outputCompression(v: string): 'gzip' | 'zstd' | 'none' {
  if (v === 'gzip' || v === 'zstd') return v;
  if (v === 'uncompressed' || v === 'none') return 'none';
  throw new UsageError(`--output: compression=${JSON.stringify(v)} (gzip, zstd or uncompressed)`);
}

function compressionLevel(v: string): number {
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n)) throw new UsageError(`--output: compression-level= expects an integer, got ${JSON.stringify(v)}`);
  return n;
}

function needDest(type: string, dest: string | undefined): string {
  if (!dest || dest === '-') throw new UsageError(`--output type=${type}: dest=PATH is required`);
  return dest;
}

export function csvFields(flag: string, value: string): Array<[string, string]> {
  let fields: string[];
  try {
    fields = splitCsv(value);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message} in ${JSON.stringify(value)}`);
  }
  return fields.map((f) => {
    const eq = f.indexOf('=');
    return eq < 0 ? [f.toLowerCase(), ''] : [f.slice(0, eq).toLowerCase(), f.slice(eq + 1)];
  });
}

export function bool(flag: string, key: string, v: string): boolean {
  if (v === '' || v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`${flag}: ${key}= expects true or false, got ${JSON.stringify(v)}`);
}
