import { isIndexType, isManifestType, isNotFound, type Descriptor, type Index, type Manifest } from '@tsbuild/core';
import { readJson } from '../content/helpers.js';
import type { Cancellable, ContentProvider } from '../types.js';

export interface ImageBlobsOptions extends Cancellable {
  /** Also follow `subject` descriptors (referrers point at their subject). Default false. */
  subjects?: boolean;
}

/**
 * Every blob an image or index references, the target included, each once,
 * parents before children. A referenced manifest or index that is missing
 * from the provider is still listed (it is referenced) but not descended
 * into: an index pulled for one platform only is normal. GC marks from this
 * list; fsck and save check it.
 */
export async function imageBlobs(provider: ContentProvider, target: Descriptor, options: ImageBlobsOptions = {}): Promise<Descriptor[]> {
  const seen = new Map<string, Descriptor>();
  const queue: Descriptor[] = [target];
  const cancel = options.signal ? { signal: options.signal } : {};
  while (queue.length > 0) {
    const desc = queue.shift()!;
    if (seen.has(desc.digest)) continue;
    seen.set(desc.digest, desc);
    const isIndex = isIndexType(desc.mediaType);
    if (!isIndex && !isManifestType(desc.mediaType)) continue;
    let json: Partial<Manifest & Index>;
    try {
      json = await readJson<Partial<Manifest & Index>>(provider, desc, cancel);
    } catch (err) {
      if (isNotFound(err)) continue;
      throw err;
    }
    if (Array.isArray(json.manifests)) queue.push(...json.manifests);
    if (json.config) queue.push(json.config);
    if (Array.isArray(json.layers)) queue.push(...json.layers);
    if (options.subjects && json.subject) queue.push(json.subject);
  }
  return [...seen.values()];
}
