export * from './types.js';
export * from './cache-key.js';
export * from './cache-storage.js';
export * from './file-cache-storage.js';
export * from './explain.js';
export * from './errors.js';
export { Solver, type SolverOptions, type SolveOptions, type SolveResult } from './solver.js';
