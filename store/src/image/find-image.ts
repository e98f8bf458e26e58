/**
 * `findImage`: what every command that names a stored image (run, inspect,
 * tag, rmi, save, push) resolves its argument with, as docker's daemon does
 * in `GetImage` (daemon/images/image.go): first a name, then an image ID.
 *
 *   - a name in any spelling (`busybox`, `docker.io/library/busybox:latest`);
 *   - `name@sha256:…`: a tag of that repository whose manifest (or index)
 *     digest, or whose image ID, is that digest;
 *   - an image ID — the config digest, what `images`, `build -q` and
 *     `--iidfile` print — full or an unambiguous prefix, with or without
 *     `sha256:` (bare hex needs 4 characters, so a short name is not taken
 *     for an ID); a manifest digest prefix is accepted too, as before;
 *   - a prefix that matches two different images is an error naming them
 *     (code STORE_IMAGE_AMBIGUOUS), as docker's digestset lookup refuses an
 *     ambiguous short ID.
 *
 * The result lists every tag of the image found (`names`): an ID names an
 * image, not a tag, and `rmi` must know all of them.
 */
import { InvalidArgumentError, NotFoundError, isDigest, isNotFound, parseReference, familiarReference, type Digest } from '@tsbuild/core';
import type { Cancellable, ContentProvider, ImageRecord, ImageStore } from '../types.js';
import { resolveImage } from './resolve.js';

export interface FoundImage {
  /** The record the argument named; for an ID, the image's most recently tagged name. */
  record: ImageRecord;
  /** Every tag pointing at the same image (same manifest or index), `record` among them. */
  names: string[];
  /** How the argument matched. */
  by: 'name' | 'digest' | 'id';
}

export async function findImage(store: { images: ImageStore; content: ContentProvider }, ref: string, options: Cancellable = {}): Promise<FoundImage> {
  const records = await store.images.list();
  const found = (record: ImageRecord, by: FoundImage['by']): FoundImage => ({
    record, by, names: records.filter((r) => r.target.digest === record.target.digest).map((r) => r.name),
  });
  const named = parseName(ref);
  if (named && !named.digest) {
    const hit = records.find((r) => r.name === ref) ?? records.find((r) => parseName(r.name)?.key === named.key);
    if (hit) return found(hit, 'name');
  }
  const ids = await imageIds(store.content, records, options);
  if (named?.digest) {
    const hit = records.find((r) => parseName(r.name)?.repo === named.repo && (r.target.digest === named.digest || ids.get(r) === named.digest));
    if (hit) return found(hit, 'digest');
  }
  const prefix = idPrefix(ref);
  if (prefix !== undefined) {
    const hits = records.filter((r) => r.target.digest.startsWith(prefix) || ids.get(r)?.startsWith(prefix));
    const images = new Set(hits.map((r) => ids.get(r) ?? r.target.digest));
    if (images.size > 1) {
      throw new InvalidArgumentError(`image ID ${ref} is ambiguous: it prefixes ${[...images].sort().join(', ')}`, { code: 'STORE_IMAGE_AMBIGUOUS' });
    }
    const newest = [...hits].sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))[0];
    if (newest) return found(newest, 'id');
  }
  throw new NotFoundError(`image ${ref} not found`, { code: 'STORE_IMAGE_NOT_FOUND' });
}

/** Each record's image ID (the host platform's config digest for an index); records that do not resolve have none. */
async function imageIds(content: ContentProvider, records: ImageRecord[], options: Cancellable): Promise<Map<ImageRecord, Digest>> {
  const ids = new Map<ImageRecord, Digest>();
  for (const r of records) {
    try {
      ids.set(r, (await resolveImage(content, r.target, options)).configDescriptor.digest);
    } catch (err) {
      if (options.signal?.aborted) throw err;
      if (!isNotFound(err) && !(err instanceof InvalidArgumentError)) throw err;
    }
  }
  return ids;
}

function parseName(ref: string): { key: string; repo: string; digest?: Digest } | undefined {
  try {
    const { digest, ...p } = parseReference(ref);
    const repo = familiarReference({ registry: p.registry, repository: p.repository });
    return { key: familiarReference(p), repo, ...(digest ? { digest } : {}) };
  } catch {
    return undefined;
  }
}

/** `sha256:<hex prefix>`, or bare hex of at least 4 characters (docker's short ids); otherwise undefined. */
function idPrefix(ref: string): string | undefined {
  if (isDigest(ref)) return ref;
  const m = /^(?:sha256:([a-f0-9]{1,64})|([a-f0-9]{4,64}))$/.exec(ref);
  return m ? `sha256:${m[1] ?? m[2]}` : undefined;
}
