/**
 * Cache keys. A key is the digest of a canonical JSON of everything a step
 * could depend on, tagged with CACHE_KEY_VERSION:
 *
 *   key = digestOf({ v, def: vertex digest, definition, inputs: [input keys…], content: contentDigestOf(content) })
 *
 * and nothing else (names and explain ids are volatile and excluded).
 *
 * The content map (context path → checksum; 20,000 entries for a COPY of a
 * big context) enters the key through its digest, computed once per map
 * object: canonical JSON of the whole map in every key computation cost
 * ~80 ms per no-op rebuild of such a context. The map itself is kept in the
 * key's components only to explain a miss file by file.
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
import { digestOf, isDigest, sha256, type Digest } from '@tsbuild/core';

/**
 * Bump when the meaning of a key changes; old records then simply miss.
 * 2: the content map enters as contentDigestOf(content), not as itself.
 * 3: a step that changes nothing keeps its (empty) layer, as in BuildKit; a
 *    record of version 2 may hold a result that dropped it.
 */
export const CACHE_KEY_VERSION = 3;

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
  // A stored record's digest of its content map, when its storage kept one: the map itself may not be read yet.
  const content = storedContentDigests.get(c) ?? contentDigestOf(c.content);
  return digestOf({ v: c.v, def: c.vertex, definition: c.definition, inputs: c.inputs.map((i) => i.key), content });
}

const contentDigests = new WeakMap<object, Digest>();

/**
 * Where a content map's producer may leave its contentDigestOf, as a
 * non-enumerable property (JSON, Object.keys and copies never see it): the
 * context checksum does, having the sorted pairs at hand. It must be exactly
 * what contentDigestOf would compute, or the same files would key differently
 * by the path they took.
 */
export const CONTENT_DIGEST: unique symbol = Symbol.for('tsbuild.contentDigest');

/**
 * The digest of a content map as keys use it: sha256 of the JSON of its
 * `[path, checksum]` pairs in path order (one native stringify of arrays,
 * not a sorted copy of a 20,000-key object). Memoized per map object: a
 * content map must not change once keyed (cache maps never do).
 */
export function contentDigestOf(content: Record<string, string>): Digest {
  const carried = (content as { [CONTENT_DIGEST]?: unknown })[CONTENT_DIGEST];
  if (typeof carried === 'string' && isDigest(carried)) return carried;
  let digest = contentDigests.get(content);
  if (digest === undefined) {
    const paths = Object.keys(content).sort();
    const pairs: [string, string][] = new Array(paths.length);
    for (let i = 0; i < paths.length; i++) pairs[i] = [paths[i]!, content[paths[i]!]!];
    digest = sha256(JSON.stringify(pairs));
    contentDigests.set(content, digest);
  }
  return digest;
}

const storedContentDigests = new WeakMap<KeyComponents, Digest>();

/**
 * For storages that keep a record's content map apart and read it only on
 * demand (FileCacheStorage): what the map's contentDigestOf is, so a miss
 * whose content did not change is explained without reading it.
 */
export function setStoredContentDigest(components: KeyComponents, digest: Digest | undefined): void {
  if (digest === undefined) storedContentDigests.delete(components);
  else storedContentDigests.set(components, digest);
}

/** The content digest a storage recorded for these components (undefined: compute it from `content`). */
export function storedContentDigest(components: KeyComponents): Digest | undefined {
  return storedContentDigests.get(components);
}
