export type * from './types.js';
export { chainIds } from './snapshot/chain-id.js';
export { LocalContentStore, type LocalContentStoreOptions } from './content/local-content-store.js';
export { readBlobBytes, readJson, writeJson, copyBlob, MAX_JSON_BLOB_BYTES } from './content/helpers.js';
export { writeFileAtomic, fsyncDir } from './content/atomic-file.js';
export { OciLayoutImageStore, TAGGED_AT_ANNOTATION } from './layout/oci-layout-image-store.js';
export { openLayout, type OpenedLayout } from './layout/open-layout.js';
export { initLayout, readIndex, assertLayout } from './layout/oci-layout.js';
export { withLock, pidAlive, type LockOptions } from './layout/lock-file.js';
