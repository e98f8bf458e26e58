/**
 * `oci` / `docker` outputs: the built image as an archive tar at `dest`, or
 * streamed into `stream` (`docker load` / `skopeo copy oci-archive:` read
 * them). The archive names the image by its tags; an untagged build is
 * exported under a temporary store tag (`tsbuild-export:<digest prefix>`)
 * removed afterwards, which a docker archive does not carry: its manifest.json
 * has no RepoTags, so `docker load` keeps the image by its ID alone.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { digestHex, type Descriptor } from '@tsbuild/core';
import { saveArchive, type Store } from '@tsbuild/store';

export async function exportArchive(
  store: Store,
  manifest: Descriptor,
  options: { format: 'oci' | 'docker'; names: readonly string[]; signal?: AbortSignal | undefined } & ({ dest: string } | { stream: Writable }),
): Promise<void> {
  const temporary = options.names.length === 0 ? `tsbuild-export:${digestHex(manifest.digest).slice(0, 12)}` : undefined;
  const refs = temporary ? [temporary] : [...options.names];
  for (const ref of refs) await store.images.put(ref, manifest);
  const out = 'dest' in options ? await fileStream(options.dest) : options.stream;
  try {
    await saveArchive({
      root: store.root, content: store.content, images: store.images, refs, format: options.format, out,
      ...(temporary ? { unnamed: true } : {}), ...(options.signal ? { signal: options.signal } : {}),
    });
  } finally {
    out.destroy();
    if (temporary) await store.images.delete(temporary).catch(() => undefined);
  }
}

async function fileStream(dest: string): Promise<Writable> {
  await mkdir(dirname(dest), { recursive: true });
  return createWriteStream(dest);
}
