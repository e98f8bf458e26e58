export { processWord, processWords, processWordWithMatches, ShellLexer } from './lexer.js';
export type { ProcessWordResult, ShellLexOptions } from './lexer.js';
export { envFromSlice, envFromRecord } from './env.js';
export type { Env } from './env.js';
export { ShellLexError } from './errors.js';
export type { ShellErrorCode } from './errors.js';
