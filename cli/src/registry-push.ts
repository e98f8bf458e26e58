/**
 * Pushes an image of the store to the registry its name points at (for
 * `tsbuild push` and `tsbuild build --push`). Layers the store keeps
 * uncompressed are gzip'd first through the store's convertImage, whose
 * layer-variants memo keeps the compressed blob, so the next push does not
 * compress again; blobs stream from the store, held by a lease until the
 * manifest is up.
 */
import { randomUUID } from 'node:crypto';
import {
  isIndexType, parseReference, shortDigest, type Digest, type Manifest,
} from '@tsbuild/core';
import { RegistryClient, dockerConfigCredentials, pushManifest, type RegistryClientOptions } from '@tsbuild/registry-client';
import { convertImage, readBlobBytes, type Store } from '@tsbuild/store';

export interface PushResult {
  digest: Digest;
  size: number;
  /** How many blobs were uploaded, found present, mounted. */
  uploaded: number;
  present: number;
}

export async function pushStoredImage(store: Store, name: string, options: { signal?: AbortSignal; env?: NodeJS.ProcessEnv; client?: RegistryClientOptions; warn?: (message: string) => void; onBlob?: (line: string) => void } = {}): Promise<PushResult> {
  const { signal } = options;
  const ref = parseReference(name);
  const record = await store.images.get(name);
  const lease = await store.leases.create({ id: `push-${randomUUID()}`, ttlMs: 3600_000 });
  const client = new RegistryClient(options.client ?? { credentials: dockerConfigCredentials(options.env ? { env: options.env } : {}) });
  try {
    const hold = (digest: Digest) => store.leases.addResource(lease.id, { type: 'content', digest });
    if (isIndexType(record.target.mediaType)) options.warn?.(`${name} is a multi-platform index: only the host platform's image is pushed`);
    const converted = await convertImage(record.target, {
      root: store.root, content: store.content, compression: 'gzip', ...(signal ? { signal } : {}),
      onBlob: (blob) => hold(blob.digest),
    });
    await hold(converted.digest);
    const bytes = await readBlobBytes(store.content, converted.digest, signal ? { signal } : {});
    const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
    let uploaded = 0;
    let present = 0;
    const digest = await pushManifest(client, ref, { mediaType: converted.mediaType, bytes, blobs: [manifest.config, ...manifest.layers] },
      (desc, start) => store.content.reader(desc.digest, { start, ...(signal ? { signal } : {}) }), {
        ...(signal ? { signal } : {}),
        onBlob: (e) => {
          if (e.result === 'exists') present++; else uploaded++;
          options.onBlob?.(`${shortDigest(e.digest)}: ${e.result === 'exists' ? 'Layer already exists' : e.result === 'mounted' ? 'Mounted' : 'Pushed'}`);
        },
      });
    return { digest, size: bytes.length, uploaded, present };
  } finally {
    await client.close();
    await store.leases.delete(lease.id).catch(() => undefined);
  }
}

/** docker's last line of a push: `v1: digest: sha256:… size: 528`. */
export function pushedLine(name: string, result: PushResult): string {
  const ref = parseReference(name);
  return `${ref.tag ?? ref.digest}: digest: ${result.digest} size: ${result.size}`;
}

