/**
 * Pure builders for the distribution API requests of pull (spec "Pulling
 * manifests", "Pulling blobs"). The Accept list names OCI index/manifest and
 * Docker manifest list/schema2 — never schema1, which `checkManifestType` refuses.
 */
import { InvalidArgumentError, MediaType, type ImageReference } from '@tsbuild/core';
import type { RepositoryRequest } from './client.js';

export const MANIFEST_ACCEPT = [MediaType.OciIndex, MediaType.OciManifest, MediaType.DockerManifestList, MediaType.DockerManifest].join(', ');

/** GET or HEAD of the manifest a reference names (by digest when it has one). */
export function manifestRequest(ref: ImageReference, method: 'GET' | 'HEAD' = 'GET', reference = ref.digest ?? ref.tag ?? 'latest'): RepositoryRequest {
  const r: RepositoryRequest = { method, path: `/manifests/${reference}`, operation: `${method} manifest ${reference}`, headers: { accept: MANIFEST_ACCEPT } };
  if (reference.includes(':')) r.digest = reference;
  return r;
}

export function blobRequest(digest: string): RepositoryRequest {
  return { method: 'GET', path: `/blobs/${digest}`, operation: 'GET blob', digest };
}

const SCHEMA1 = /^application\/vnd\.docker\.distribution\.manifest\.v1\+(prettyjws|json)$/;

/** The media type of a manifest answer: the Content-Type, else the document's own `mediaType`. */
export function checkManifestType(contentType: string | undefined, body: Buffer, where: string): string {
  const fromHeader = (contentType ?? '').split(';')[0]!.trim();
  let fromBody: string | undefined;
  let schemaVersion: unknown;
  try {
    const json = JSON.parse(body.toString('utf8')) as { mediaType?: string; schemaVersion?: unknown; manifests?: unknown };
    fromBody = json.mediaType ?? (Array.isArray(json.manifests) ? MediaType.OciIndex : undefined);
    schemaVersion = json.schemaVersion;
  } catch {
    throw new InvalidArgumentError(`${where}: the manifest is not JSON`, { code: 'REGISTRY_MANIFEST_INVALID' });
  }
  if (SCHEMA1.test(fromHeader) || schemaVersion === 1) {
    throw new InvalidArgumentError(`${where}: Docker image manifest schema 1 is not supported (deprecated since 2017); push the image again with a current client`, { code: 'REGISTRY_SCHEMA1_UNSUPPORTED' });
  }
  const known: string[] = [MediaType.OciIndex, MediaType.OciManifest, MediaType.DockerManifestList, MediaType.DockerManifest];
  const type = known.includes(fromHeader) ? fromHeader : fromBody ?? MediaType.OciManifest;
  if (!known.includes(type)) throw new InvalidArgumentError(`${where}: unsupported manifest media type ${type}`, { code: 'REGISTRY_MANIFEST_INVALID' });
  return type;
}
