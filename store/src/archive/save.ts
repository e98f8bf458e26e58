/**
 * `save`: images → one tar archive, streamed. The archive is an OCI image
 * layout (oci-layout, index.json with ref names, blobs/sha256/…) and, for the
 * docker format, also docker's `manifest.json` and `repositories` — the shape
 * `docker save` writes since Docker 25, which `docker load` of every version
 * since 1.10 reads (it ignores what it does not know, and decompresses layers).
 *
 * Blobs are hard-linked into a staging directory beside the store's blobs (no
 * copy, no buffering), and the directory is packed by node-tar.
 */
import { link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { digestHex, MediaType, REF_NAME_ANNOTATION, IMAGE_NAME_ANNOTATION, parseReference, formatReference, type Descriptor, type Index } from '@tsbuild/core';
import { imageBlobs } from '../image/image-blobs.js';
import { resolveImage } from '../image/resolve.js';
import type { ContentStore, ImageStore } from '../types.js';

export interface SaveOptions {
  root: string;
  content: ContentStore;
  images: ImageStore;
  refs: string[];
  format: 'docker' | 'oci';
  out: Writable;
  /** Docker format: write no RepoTags (and no `repositories`), so `docker load` keeps the images by ID only — for an untagged build whose `refs` are temporary store names. */
  unnamed?: boolean;
  signal?: AbortSignal;
}

export async function saveArchive(options: SaveOptions): Promise<{ images: number; blobs: number }> {
  const { content, images, signal } = options;
  await mkdir(join(options.root, 'tmp'), { recursive: true });
  const stage = await mkdtemp(join(options.root, 'tmp', 'save-'));
  try {
    await mkdir(join(stage, 'blobs', 'sha256'), { recursive: true });
    const linked = new Set<string>();
    const addBlob = async (d: Descriptor) => {
      if (linked.has(d.digest)) return;
      linked.add(d.digest);
      await link(content.blobPath(d.digest), join(stage, 'blobs', 'sha256', digestHex(d.digest)));
    };
    const index: Index = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
    const dockerManifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
    const repositories: Record<string, Record<string, string>> = {};
    for (const ref of options.refs) {
      const record = await images.get(ref);
      for (const blob of await imageBlobs(content, record.target, { signal })) await addBlob(blob);
      const name = formatReference(parseReference(record.name));
      index.manifests.push({ ...record.target, annotations: { ...record.target.annotations, [IMAGE_NAME_ANNOTATION]: name, [REF_NAME_ANNOTATION]: record.name } });
      if (options.format === 'docker') {
        const resolved = await resolveImage(content, record.target, { signal });
        const path = (d: Descriptor) => `blobs/sha256/${digestHex(d.digest)}`;
        dockerManifest.push({ Config: path(resolved.configDescriptor), RepoTags: options.unnamed ? [] : [record.name], Layers: resolved.manifest.layers.map(path) });
        if (options.unnamed) continue;
        const parsed = parseReference(record.name);
        const repo = record.name.slice(0, record.name.length - (parsed.tag ? parsed.tag.length + 1 : 0));
        (repositories[repo] ??= {})[parsed.tag ?? 'latest'] = digestHex(resolved.configDescriptor.digest);
      }
    }
    await writeFile(join(stage, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(join(stage, 'index.json'), JSON.stringify(index));
    const entries = ['oci-layout', 'index.json', 'blobs'];
    if (options.format === 'docker') {
      await writeFile(join(stage, 'manifest.json'), JSON.stringify(dockerManifest));
      await writeFile(join(stage, 'repositories'), JSON.stringify(repositories));
      entries.push('manifest.json', 'repositories');
    }
    const packed = tar.c({ cwd: stage, portable: true, mtime: new Date(0) }, entries);
    await pipeline(packed as unknown as NodeJS.ReadableStream, options.out, { signal });
    return { images: options.refs.length, blobs: linked.size };
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}
