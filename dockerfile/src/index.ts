/**
 * @tsbuild/dockerfile — the Dockerfile frontend: text → parse tree
 * (dockerfile-ast through one adapter) → typed instructions → stage graph,
 * with BuildKit's shell lexer, .dockerignore matching and lint checks.
 * This index is the package's only way in; it knows nothing of vertices,
 * containers or the store.
 */
export { processWord, processWords, processWordWithMatches, ShellLexer, ShellLexError, envFromSlice, envFromRecord, type Env, type ShellLexOptions, type ProcessWordResult, type ShellErrorCode } from './shell/index.js';
export { PatternMatcher, createMatcher, cleanPath, compilePattern, EMPTY_MATCH_INFO, PatternSyntaxError, readDockerignore, selectIgnoreFile, walkContext, type MatchInfo, type IgnoreFileChoice, type ContextEntry } from './dockerignore/index.js';
export {
  parseDockerfile, dumpAst, dumpNode, detectSyntax, findDirective, chompHeredocContent, ParseErrorCode,
  type ParseOptions, type ParseResult, type ParsedDirectives, type DetectedDirective,
  type Node as DockerfileNode, type Heredoc as DockerfileHeredoc, type Warning as DockerfileWarning,
} from './parser/index.js';
export * from './instructions/index.js';
export * from './stages/index.js';
export { printStageGraph, printOutline, printDot, printJson, type PrintFormat } from './print/index.js';
