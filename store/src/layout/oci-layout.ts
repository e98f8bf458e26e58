/**
 * The two files that make a directory an OCI image layout (image-spec
 * image-layout.md): `oci-layout` and `index.json`. Reading is tolerant of
 * what other tools write; writing is always atomic (temp + fsync + rename).
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FailedPreconditionError, MediaType, type Index } from '@tsbuild/core';
import { writeFileAtomic } from '../content/atomic-file.js';

export const OCI_LAYOUT_FILE = 'oci-layout';
export const INDEX_FILE = 'index.json';
export const IMAGE_LAYOUT_VERSION = '1.0.0';

/** Makes `root` a (possibly empty) OCI layout; leaves an existing one untouched. */
export async function initLayout(root: string): Promise<void> {
  await mkdir(join(root, 'blobs', 'sha256'), { recursive: true });
  if (!(await exists(join(root, OCI_LAYOUT_FILE)))) {
    await writeFileAtomic(join(root, OCI_LAYOUT_FILE), JSON.stringify({ imageLayoutVersion: IMAGE_LAYOUT_VERSION }));
  }
  if (!(await exists(join(root, INDEX_FILE)))) {
    await writeIndex(root, emptyIndex());
  }
}

/** Fails with FailedPreconditionError (code STORE_NOT_OCI_LAYOUT) unless `root` holds a readable `oci-layout` of version 1.x. */
export async function assertLayout(root: string): Promise<void> {
  const text = await readFile(join(root, OCI_LAYOUT_FILE), 'utf8').catch(() => undefined);
  let version: unknown;
  try {
    version = text === undefined ? undefined : (JSON.parse(text) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch {
    version = undefined;
  }
  if (typeof version !== 'string' || !version.startsWith('1.')) {
    throw new FailedPreconditionError(`${root} is not an OCI image layout (no valid ${OCI_LAYOUT_FILE} file)`, { code: 'STORE_NOT_OCI_LAYOUT' });
  }
}

export function emptyIndex(): Index {
  return { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [] };
}

/** Reads index.json; a missing file is an empty index, an unparsable one a FailedPreconditionError (code STORE_INDEX_INVALID). */
export async function readIndex(root: string): Promise<Index> {
  let text: string;
  try {
    text = await readFile(join(root, INDEX_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return emptyIndex();
    throw err;
  }
  let index: Index;
  try {
    index = JSON.parse(text) as Index;
  } catch (err) {
    throw new FailedPreconditionError(`${join(root, INDEX_FILE)} is not valid JSON`, { code: 'STORE_INDEX_INVALID', cause: err });
  }
  if (!index || typeof index !== 'object' || !Array.isArray(index.manifests)) {
    throw new FailedPreconditionError(`${join(root, INDEX_FILE)} is not an OCI index (no manifests array)`, { code: 'STORE_INDEX_INVALID' });
  }
  return index;
}

export async function writeIndex(root: string, index: Index): Promise<void> {
  await writeFileAtomic(join(root, INDEX_FILE), JSON.stringify(index));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
