/** The stage graph: typed instructions → stages with expanded steps, configs, history, edges and reachability. */
export { buildStageGraph, stageGraphFromInstructions, DEFAULT_PATH_ENV } from './build-stage-graph.js';
export { StageErrorCode } from './dispatch-context.js';
export { PROXY_ARGS } from './global-scope.js';
export type * from './types.js';
