/**
 * `--cache-from` and `--cache-to` in buildx's CSV form, with the attributes
 * BuildKit's README documents for its registry, local and inline caches
 * (README.md, "Export cache"): `type=registry,ref=R`, `type=local,src=|dest=DIR[,tag=T]`,
 * `type=inline`; `mode=min|max`, `image-manifest=`, `oci-mediatypes=`,
 * `compression=uncompressed|gzip|zstd`, `ignore-error=`. A value without `=`
 * is a registry reference (`--cache-from user/app:cache`). `cache-mounts=true`
 * is tsbuild's own. Pure; a bad value is a UsageError naming its flag.
 */
import type { Compression } from '@tsbuild/core';
import type { CacheExportSpec, CacheImportSpec } from '@tsbuild/builder';
import { bool, csvFields } from './build-flag-values.js';
import { UsageError } from './usage-error.js';

export function parseCacheFrom(value: string): CacheImportSpec {
  const flag = '--cache-from';
  const attrs = attributes(flag, value);
  const type = attrs.get('type') ?? 'registry';
  if (type === 'registry') {
    allowOnly(flag, attrs, ['type', 'ref']);
    return { type, ref: required(flag, attrs, 'ref') };
  }
  if (type === 'local') {
    allowOnly(flag, attrs, ['type', 'src', 'tag']);
    const tag = attrs.get('tag');
    return { type, src: required(flag, attrs, 'src'), ...(tag ? { tag } : {}) };
  }
  throw new UsageError(`${flag}: type=${type} is not supported (registry, local; an image with an inline cache is read as type=registry)`);
}

export function parseCacheTo(value: string): CacheExportSpec {
  const flag = '--cache-to';
  const attrs = attributes(flag, value);
  const type = attrs.get('type') ?? 'registry';
  const common = ['type', 'mode', 'image-manifest', 'oci-mediatypes', 'compression', 'ignore-error', 'cache-mounts'];
  const options: Omit<CacheExportSpec, 'type'> = {};
  const mode = attrs.get('mode');
  if (mode !== undefined) {
    if (mode !== 'min' && mode !== 'max') throw new UsageError(`${flag}: mode= expects min or max, got ${JSON.stringify(mode)}`);
    options.mode = mode;
  }
  if (attrs.has('image-manifest')) options.imageManifest = bool(flag, 'image-manifest', attrs.get('image-manifest')!);
  // The cache is always written with OCI media types (image-manifest needs them in BuildKit too).
  if (attrs.has('oci-mediatypes') && !bool(flag, 'oci-mediatypes', attrs.get('oci-mediatypes')!)) throw new UsageError(`${flag}: oci-mediatypes=false is not supported (the cache is written with OCI media types)`);
  if (attrs.has('ignore-error')) options.ignoreError = bool(flag, 'ignore-error', attrs.get('ignore-error')!);
  if (attrs.has('cache-mounts')) options.cacheMounts = bool(flag, 'cache-mounts', attrs.get('cache-mounts')!);
  const compression = attrs.get('compression');
  if (compression !== undefined) options.compression = compressionOf(flag, compression);
  if (type === 'registry') {
    allowOnly(flag, attrs, [...common, 'ref']);
    return { type, ref: required(flag, attrs, 'ref'), ...options };
  }
  if (type === 'local') {
    allowOnly(flag, attrs, [...common, 'dest', 'tag']);
    const tag = attrs.get('tag');
    return { type, dest: required(flag, attrs, 'dest'), ...(tag ? { tag } : {}), ...options };
  }
  if (type === 'inline') {
    allowOnly(flag, attrs, ['type', 'mode']);
    if (options.mode === 'max') throw new UsageError(`${flag}: type=inline supports only mode=min (as BuildKit's inline cache)`);
    return { type };
  }
  throw new UsageError(`${flag}: type=${type} is not supported (registry, local, inline)`);
}

function attributes(flag: string, value: string): Map<string, string> {
  if (!value.includes('=')) return new Map([['type', 'registry'], ['ref', value]]);
  return new Map(csvFields(flag, value));
}

function required(flag: string, attrs: Map<string, string>, key: string): string {
  const v = attrs.get(key);
  if (!v) throw new UsageError(`${flag}: type=${attrs.get('type') ?? 'registry'} needs ${key}=`);
  return v;
}

function allowOnly(flag: string, attrs: Map<string, string>, allowed: readonly string[]): void {
  for (const key of attrs.keys()) if (!allowed.includes(key)) throw new UsageError(`${flag}: unknown attribute ${key}= for type=${attrs.get('type') ?? 'registry'} (${allowed.join(', ')})`);
}

function compressionOf(flag: string, value: string): Compression {
  if (value === 'uncompressed') return 'none';
  if (value === 'gzip' || value === 'zstd') return value;
  throw new UsageError(`${flag}: compression= expects uncompressed, gzip or zstd, got ${JSON.stringify(value)}`);
}
