import { LocalContentStore } from '../content/local-content-store.js';
import { OciLayoutImageStore } from './oci-layout-image-store.js';
import { assertLayout } from './oci-layout.js';

export interface OpenedLayout {
  content: LocalContentStore;
  images: OciLayoutImageStore;
}

/**
 * Opens any OCI image layout directory (one skopeo, umoci or BuildKit wrote)
 * read-only through the store's own classes. FailedPreconditionError (code
 * STORE_NOT_OCI_LAYOUT) when `dir` has no valid `oci-layout` file.
 */
export async function openLayout(dir: string): Promise<OpenedLayout> {
  await assertLayout(dir);
  return { content: new LocalContentStore(dir, { readOnly: true }), images: new OciLayoutImageStore(dir, { readOnly: true }) };
}
