/**
 * Cache keys. A key is the digest of a canonical JSON of everything a step
 * could depend on, tagged with CACHE_KEY_VERSION:
 *
 *   key = digestOf({ v, def: vertex digest, definition, inputs: [input keys…], content })
 *
 * and nothing else (names and explain ids are volatile and excluded).
 *
 * Two levels, after BuildKit's idea, kept simple:
 * - the *definition key* uses each input's definition key: it is known from
 *   cache maps alone, so a vertex can hit without any ancestor executing;
 * - the *result key* uses each input's output key, i.e. the input result's
 *   `contentDigest` when its op provides one (else the key it was stored
 *   under). An input that rebuilt to the same output (same layer chain id)
 *   gives the same result key, so its dependents still hit.
 * When no input has a result identity of its own the two keys coincide.
 */
import { digestOf, type Digest } from '@tsbuild/core';

/** Bump when the meaning of a key changes; old records then simply miss. */
export const CACHE_KEY_VERSION = 1;

export interface InputComponent {
  name: string;
  explainId?: string;
  /** The input's key as used in this key (definition key or output key). */
  key: string;
}

/** The readable parts of a key, stored in each record so a later miss can be explained. */
export interface KeyComponents {
  v: number;
  name: string;
  explainId?: string;
  vertex: Digest;
  definition: Record<string, unknown>;
  content: Record<string, string>;
  inputs: InputComponent[];
}

export function cacheKeyOf(c: KeyComponents): Digest {
  return digestOf({ v: c.v, def: c.vertex, definition: c.definition, inputs: c.inputs.map((i) => i.key), content: c.content });
}
