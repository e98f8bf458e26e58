import { sha256, type Digest } from './digest.js';

/**
 * JSON with object keys sorted at every level and no whitespace: the same
 * value always gives the same bytes. `undefined` fields are dropped, as
 * JSON.stringify does. Used for cache keys and vertex digests.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** Digest of the canonical JSON of a value. */
export function digestOf(value: unknown): Digest {
  return sha256(canonicalJson(value));
}
