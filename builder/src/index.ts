// The builder's public API. Each area appends its exports below.
export {};
export * from './solver/index.js';
export * from './context/index.js';
export * from './fileops/index.js';
// api: the build API (load → definition → solve → export)
export * from './api/index.js';
// ADD of http(s) and git URLs: BuildKit's rules for what is remote, and the typed errors of the two sources
export { parseGitRef, remoteSourceOf, httpFilename, type GitRef, type RemoteSource } from './definition/remote-source.js';
export { HttpSourceError } from './worker/http-fetch.js';
export { GitSourceError } from './worker/git-cli.js';
// definition: the build as plain data (op descriptions, inputs by index) — made from a stage graph, checked when it comes from outside, diffed
export { buildDefinition } from './definition/build-definition.js';
export { checkDefinition } from './definition/check.js';
export { diffDefinitions, type VertexChange } from './definition/diff.js';
export { planOf } from './definition/plan.js';
export { opKind, type OpDescription, type OpKind, type ExecSpec, type ExecMountSpec, type FileSpec, type FileAction } from './definition/ops.js';
export type { Definition, DefinitionVertex, DefinitionOptions, ResolvedBase } from './definition/types.js';
// build-cache lifecycle: usage records (`du --verbose`) and GC by policy (`prune --cache`, automatic GC after builds)
export * from './cache-gc/index.js';
// secrets: how a build reads a --secret's value (file or variable); a remote client reads them the same way before sending them
export { SecretProvider } from './worker/secrets.js';
