export { ContextWatchClient, contextWatchUsable, watchSocketPath, query as queryContextWatch, type WatchState, type ContextWatchOptions } from './client.js';
export { ContextSession, memoKey, type ContextSummer, type ContextSessionOptions } from './session.js';
export { RELIABLE_FS_TYPES, type WatchAnswer } from './protocol.js';
