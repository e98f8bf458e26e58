export * from './errors.js';
export * from './source-range.js';
export * from './digest.js';
export * from './canonical-json.js';
export * from './media-types.js';
export * from './platform.js';
export * from './oci.js';
export * from './reference.js';
