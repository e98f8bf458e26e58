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
