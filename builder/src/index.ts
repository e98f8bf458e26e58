// The builder's public API. Each area appends its exports below.
export {};
export * from './solver/index.js';
export { processWord, processWords, processWordWithMatches, ShellLexer, ShellLexError, envFromSlice, envFromRecord, type Env, type ShellLexOptions, type ProcessWordResult, type ShellErrorCode } from './frontend/shell/index.js';
export { PatternMatcher, createMatcher, EMPTY_MATCH_INFO, PatternSyntaxError, readDockerignore, selectIgnoreFile, walkContext, type MatchInfo, type IgnoreFileChoice, type ContextEntry } from './frontend/dockerignore/index.js';
