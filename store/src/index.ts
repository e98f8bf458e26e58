export type * from './types.js';
export { chainIds } from './snapshot/chain-id.js';
export { LocalContentStore, type LocalContentStoreOptions } from './content/local-content-store.js';
export { readBlobBytes, readJson, writeJson, copyBlob, MAX_JSON_BLOB_BYTES } from './content/helpers.js';
export { writeFileAtomic, fsyncDir } from './content/atomic-file.js';
