/**
 * Media type flavors: OCI (the default) and Docker schema2 (on request, for
 * registries and tools that only speak it). Layers keep their compression
 * when converted; non-distributable/foreign layers keep their meaning.
 */
import { InvalidArgumentError, MediaType, type MediaTypeFlavor, isLayerType, layerCompression, layerMediaType } from '@tsbuild/core';

export function manifestMediaType(flavor: MediaTypeFlavor): string {
  return flavor === 'docker' ? MediaType.DockerManifest : MediaType.OciManifest;
}

export function indexMediaType(flavor: MediaTypeFlavor): string {
  return flavor === 'docker' ? MediaType.DockerManifestList : MediaType.OciIndex;
}

export function configMediaType(flavor: MediaTypeFlavor): string {
  return flavor === 'docker' ? MediaType.DockerConfig : MediaType.OciConfig;
}

/** The flavor a media type belongs to, or undefined for neither (artifacts, empty). */
export function mediaTypeFlavor(mt: string): MediaTypeFlavor | undefined {
  if (mt.startsWith('application/vnd.docker.')) return 'docker';
  if (mt.startsWith('application/vnd.oci.image.')) return 'oci';
  return undefined;
}

/** The layer media type of the other flavor with the same compression; InvalidArgumentError for a non-layer type. */
export function convertLayerMediaType(mt: string, flavor: MediaTypeFlavor): string {
  if (!isLayerType(mt)) throw new InvalidArgumentError(`${mt} is not a layer media type`, { code: 'IMAGE_NOT_A_LAYER' });
  if (mediaTypeFlavor(mt) === flavor) return mt;
  if (mt === MediaType.DockerForeignLayerGzip) return 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
  if (mt.startsWith('application/vnd.oci.image.layer.nondistributable.') && flavor === 'docker') return MediaType.DockerForeignLayerGzip;
  return layerMediaType(layerCompression(mt), flavor);
}
