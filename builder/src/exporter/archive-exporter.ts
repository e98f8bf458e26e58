/**
 * `oci` / `docker` outputs: the built image as an archive tar at `dest`
 * (`docker load` / `skopeo copy oci-archive:` read them). The archive names
 * the image by its tags; an untagged build is exported under a temporary
 * tag (`tsbuild-export:<digest prefix>`) removed afterwards.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { digestHex, type Descriptor } from '@tsbuild/core';
import { saveArchive, type Store } from '@tsbuild/store';

export async function exportArchive(
  store: Store,
  manifest: Descriptor,
  options: { format: 'oci' | 'docker'; dest: string; names: readonly string[]; signal?: AbortSignal | undefined },
): Promise<void> {
  const temporary = options.names.length === 0 ? `tsbuild-export:${digestHex(manifest.digest).slice(0, 12)}` : undefined;
  const refs = temporary ? [temporary] : [...options.names];
  for (const ref of refs) await store.images.put(ref, manifest);
  await mkdir(dirname(options.dest), { recursive: true });
  const out = createWriteStream(options.dest);
  try {
    await saveArchive({ root: store.root, content: store.content, images: store.images, refs, format: options.format, out, ...(options.signal ? { signal: options.signal } : {}) });
  } finally {
    out.destroy();
    if (temporary) await store.images.delete(temporary).catch(() => undefined);
  }
}
