// The programmatic API of tsbuild (`import { … } from 'tsbuild'`).
export { main } from './main.js';
export { build, type ApiBuildOptions } from './api.js';
export type { BuildEvent, BuildOptions, BuildResult, BuildWarning, OutputSpec, SecretSpec, SshSpec } from './api.js';
export { buildWithEvents, type BuildRun } from './build-stream.js';
export { pullToStore, type StorePullOptions, type StorePullResult } from './registry-pull.js';
