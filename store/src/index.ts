export type * from './types.js';
export { chainIds } from './snapshot/chain-id.js';
