/**
 * Structural validation of image JSON read from disk or a registry. The
 * errors say which field of which blob is wrong (InvalidArgumentError with
 * codes IMAGE_INVALID_MANIFEST / IMAGE_INVALID_INDEX / IMAGE_INVALID_CONFIG),
 * so a broken image fails at resolve time, not deep inside an unpack.
 */
import { InvalidArgumentError, isDigest, type Descriptor, type ImageConfig, type Index, type Manifest } from '@tsbuild/core';

type Json = Record<string, unknown>;

function fail(code: string, what: string, why: string): never {
  throw new InvalidArgumentError(`invalid ${what}: ${why}`, { code });
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks one descriptor; `where` names it in the error (e.g. `layers[2]`). */
export function validateDescriptor(v: unknown, code: string, what: string, where: string): asserts v is Descriptor {
  if (!isObject(v)) fail(code, what, `${where} is not an object`);
  if (typeof v.mediaType !== 'string' || v.mediaType === '') fail(code, what, `${where}.mediaType is missing`);
  if (typeof v.digest !== 'string' || !isDigest(v.digest)) fail(code, what, `${where}.digest ${JSON.stringify(v.digest)} is not a digest`);
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) fail(code, what, `${where}.size must be a non-negative integer`);
}

export function validateManifest(v: unknown, what = 'image manifest'): asserts v is Manifest {
  const code = 'IMAGE_INVALID_MANIFEST';
  if (!isObject(v)) fail(code, what, 'not a JSON object');
  if (v.schemaVersion !== 2) fail(code, what, `schemaVersion is ${JSON.stringify(v.schemaVersion)}, expected 2`);
  if ('manifests' in v) fail(code, what, 'it is an index (has manifests), not a manifest');
  validateDescriptor(v.config, code, what, 'config');
  if (!Array.isArray(v.layers)) fail(code, what, 'layers is not an array');
  v.layers.forEach((l, i) => validateDescriptor(l, code, what, `layers[${i}]`));
}

export function validateIndex(v: unknown, what = 'image index'): asserts v is Index {
  const code = 'IMAGE_INVALID_INDEX';
  if (!isObject(v)) fail(code, what, 'not a JSON object');
  if (v.schemaVersion !== 2) fail(code, what, `schemaVersion is ${JSON.stringify(v.schemaVersion)}, expected 2`);
  if (!Array.isArray(v.manifests)) fail(code, what, 'manifests is not an array');
  v.manifests.forEach((m, i) => validateDescriptor(m, code, what, `manifests[${i}]`));
}

export function validateImageConfig(v: unknown, what = 'image config'): asserts v is ImageConfig {
  const code = 'IMAGE_INVALID_CONFIG';
  if (!isObject(v)) fail(code, what, 'not a JSON object');
  if (typeof v.architecture !== 'string' || v.architecture === '') fail(code, what, 'architecture is missing');
  if (typeof v.os !== 'string' || v.os === '') fail(code, what, 'os is missing');
  if (!isObject(v.rootfs) || v.rootfs.type !== 'layers') fail(code, what, 'rootfs.type must be "layers"');
  const diffIDs = v.rootfs.diff_ids;
  if (!Array.isArray(diffIDs)) fail(code, what, 'rootfs.diff_ids is not an array');
  diffIDs.forEach((d, i) => {
    if (typeof d !== 'string' || !isDigest(d)) fail(code, what, `rootfs.diff_ids[${i}] ${JSON.stringify(d)} is not a digest`);
  });
  if (v.config !== undefined && v.config !== null && !isObject(v.config)) fail(code, what, 'config is not an object');
}
