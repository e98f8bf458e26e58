/** The Dockerfile parser: text → BuildKit's parse tree, and its dump format. */
export { parseDockerfile, nodeFromLine, maxLineBytes } from './parse.js';
export type { ParseOptions, ParseResult, ParsedDirectives } from './parse.js';
export { dumpAst, dumpNode } from './dump.js';
export type { Node, Heredoc, Warning } from './node.js';
export { nextValues } from './node.js';
export { DirectiveParser, detectSyntax, findDirective } from './directives.js';
export type { Directive, DetectedDirective } from './directives.js';
export { parseHeredoc, heredocsFromLine, chompHeredocContent } from './heredoc.js';
export { parseWords, parseNameVal, parseJSON } from './line-parsers.js';
export { ParseErrorCode, DockerfileSyntaxError, linesText } from './errors.js';
export { goQuote } from './go-text.js';
