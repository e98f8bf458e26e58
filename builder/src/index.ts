// The builder's public API. Each area appends its exports below.
export {};
export * from './solver/index.js';
export * from './context/index.js';
export * from './fileops/index.js';
export { processWord, processWords, processWordWithMatches, ShellLexer, ShellLexError, envFromSlice, envFromRecord, type Env, type ShellLexOptions, type ProcessWordResult, type ShellErrorCode } from './frontend/shell/index.js';
export { PatternMatcher, createMatcher, EMPTY_MATCH_INFO, PatternSyntaxError, readDockerignore, selectIgnoreFile, walkContext, type MatchInfo, type IgnoreFileChoice, type ContextEntry } from './frontend/dockerignore/index.js';
// frontend: Dockerfile parser (BuildKit parse tree) and typed instruction model
export {
  parseDockerfile, dumpAst, dumpNode, detectSyntax, findDirective, chompHeredocContent, ParseErrorCode,
  type ParseOptions, type ParseResult, type ParsedDirectives, type DetectedDirective,
  type Node as DockerfileNode, type Heredoc as DockerfileHeredoc, type Warning as DockerfileWarning,
} from './frontend/parser/index.js';
export * from './frontend/instructions/index.js';
// build: the build API (load → definition → solve → export)
export * from './build/index.js';
// frontend: stage graph (expanded stages, configs, history, reachability) and its printers
export * from './frontend/stages/index.js';
export { printStageGraph, printOutline, printDot, printJson, type PrintFormat } from './frontend/print/index.js';
// ADD of http(s) and git URLs: BuildKit's rules for what is remote, and the typed errors of the two sources
export { parseGitRef, remoteSourceOf, httpFilename, type GitRef, type RemoteSource } from './definition/remote-source.js';
export { HttpSourceError } from './worker/http-fetch.js';
export { GitSourceError } from './worker/git-cli.js';
