/**
 * `load`: a tar archive from `save`, `docker save` (classic or OCI-style) or
 * `skopeo copy … oci-archive:` → blobs and tags in the store. The archive is
 * unpacked with the hardened layer applier into a scratch directory beside the
 * store (never trusting its paths), then read as an OCI layout when it has an
 * index.json with names, else through docker's manifest.json.
 *
 * Tags come last (issue 13 point 4): every blob an image references is
 * ingested (digest-verified) first, then `beforeTag` checks every image (the
 * CLI unpacks or reads its layers through), and only when all of them pass is
 * any tag written. A failed load leaves no tag; the blobs it ingested are
 * unreferenced and go with the next prune.
 */
import { createReadStream } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import { Readable } from 'node:stream';
import {
  InvalidArgumentError,
  IMAGE_NAME_ANNOTATION,
  MediaType,
  normalizeReference,
  REF_NAME_ANNOTATION,
  sha256,
  type Descriptor,
  type ImageConfig,
  type Manifest,
} from '@tsbuild/core';
import { writeJson } from '../content/helpers.js';
import { imageBlobs } from '../image/image-blobs.js';
import { applyLayer } from '../layer/tar-apply.js';
import { openLayerStream } from '../layer/layer-reader.js';
import { writeLayer } from '../layer/layer-writer.js';
import { openLayout } from '../layout/open-layout.js';
import type { ContentStore, ImageStore } from '../types.js';

export interface LoadOptions {
  root: string;
  content: ContentStore;
  images: ImageStore;
  input: Readable;
  signal?: AbortSignal;
  /** Called once with every image the archive names, after their blobs are in the store and before any tag is written; a rejection fails the load untagged. */
  beforeTag?: (images: readonly LoadedImage[]) => Promise<void>;
}

export interface LoadedImage {
  name: string;
  target: Descriptor;
}

export async function loadArchive(options: LoadOptions): Promise<{ tags: string[] }> {
  const pending = await stageArchive(options);
  await options.beforeTag?.(pending);
  for (const { name, target } of pending) await options.images.put(name, target);
  return { tags: pending.map((p) => p.name) };
}

/** Ingests the archive's blobs; the images it names, not yet tagged. */
async function stageArchive(options: LoadOptions): Promise<LoadedImage[]> {
  const { content, signal } = options;
  await mkdir(join(options.root, 'tmp'), { recursive: true });
  const scratch = await mkdtemp(join(options.root, 'tmp', 'load-'));
  try {
    await applyLayer(scratch, await openLayerStream(options.input, { signal }), { signal });
    const staged: LoadedImage[] = [];
    if (await exists(join(scratch, 'index.json'))) {
      const layout = await openLayout(scratch);
      const named = (await readIndexEntries(scratch)).filter((d) => d.annotations?.[REF_NAME_ANNOTATION] || d.annotations?.[IMAGE_NAME_ANNOTATION]);
      if (named.length > 0) {
        for (const desc of named) {
          for (const blob of await imageBlobs(layout.content, desc, { signal })) {
            await content.ingest(await layout.content.reader(blob.digest, { signal }), { digest: blob.digest, size: blob.size }, { signal });
          }
          const name = normalizeReference(desc.annotations![IMAGE_NAME_ANNOTATION] ?? desc.annotations![REF_NAME_ANNOTATION]!);
          const { annotations: _drop, ...target } = desc;
          staged.push({ name, target });
        }
        return staged;
      }
    }
    if (await exists(join(scratch, 'manifest.json'))) return await loadDockerManifest(scratch, content, signal);
    throw new InvalidArgumentError('not an image archive: no named index.json and no manifest.json', { code: 'STORE_ARCHIVE_INVALID' });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function readIndexEntries(dir: string): Promise<Descriptor[]> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests?: Descriptor[] };
  return index.manifests ?? [];
}

/** Classic `docker save`: config JSON files and layer tars named in manifest.json. */
async function loadDockerManifest(dir: string, content: ContentStore, signal?: AbortSignal): Promise<LoadedImage[]> {
  const entries = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>;
  const staged: LoadedImage[] = [];
  const inside = (p: string) => {
    const n = normalize(p);
    if (n.startsWith('..') || n.startsWith('/')) throw new InvalidArgumentError(`archive path escapes the archive: ${p}`, { code: 'STORE_ARCHIVE_INVALID' });
    return join(dir, n);
  };
  for (const entry of entries) {
    const configBytes = await readFile(inside(entry.Config));
    const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
    const configInfo = await content.ingest(Readable.from([configBytes]), { digest: sha256(configBytes) }, { signal });
    const layers: Descriptor[] = [];
    for (const [i, path] of entry.Layers.entries()) {
      const layer = await writeLayer(await openLayerStream(createReadStream(inside(path)), { signal }), content, { compression: 'gzip', flavor: 'docker', signal });
      const expected = config.rootfs?.diff_ids?.[i];
      if (expected && expected !== layer.diffID) throw new InvalidArgumentError(`layer ${path} has diffID ${layer.diffID}, the config says ${expected}`, { code: 'STORE_ARCHIVE_INVALID' });
      layers.push(layer.descriptor);
    }
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaType.DockerManifest,
      config: { mediaType: MediaType.DockerConfig, digest: configInfo.digest, size: configInfo.size },
      layers,
    };
    const target = await writeJson(content, manifest, MediaType.DockerManifest, { signal });
    for (const tag of entry.RepoTags ?? []) {
      const name = normalizeReference(tag);
      staged.push({ name, target: { ...target, platform: { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) } } });
    }
  }
  return staged;
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(() => true, () => false);
}
