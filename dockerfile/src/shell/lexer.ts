/**
 * BuildKit's shell-word lexer (`frontend/dockerfile/shell/lex.go`): quote
 * removal, escapes and `$VAR`/`${VAR…}` expansion for the words of ENV, ARG,
 * COPY, WORKDIR and friends. No command substitution, no globbing, no
 * arithmetic: only what BuildKit does, with the same results and errors.
 * All functions are pure; an Env is only read.
 */
import type { Env } from './env.js';
import { LexFailure, ShellLexError } from './errors.js';
import { EOF } from './scanner.js';
import { WordProcessor, type ShellLexOptions } from './word-processor.js';

export type { ShellLexOptions } from './word-processor.js';

export interface ProcessWordResult {
  /** The expanded word, quotes and escapes removed, white space kept. */
  result: string;
  /** The expanded word split into words (see `processWords`). */
  words: string[];
  /** Names that were looked up and found. */
  matched: Set<string>;
  /** Names that were looked up and not found (BuildKit lints these). */
  unmatched: Set<string>;
}

/**
 * Expands `word` and also reports which variables it referred to. Throws
 * ShellLexError (message `failed to process "<word>": <reason>`).
 */
export function processWordWithMatches(word: string, env: Env, options: ShellLexOptions = {}): ProcessWordResult {
  const sw = new WordProcessor(word, env, options);
  try {
    const { result, words } = sw.processStopOn(EOF, sw.rawEscapes);
    return { result, words, matched: sw.matched, unmatched: sw.unmatched };
  } catch (err) {
    if (err instanceof LexFailure) throw new ShellLexError(err.code, word, err.message);
    throw err;
  }
}

/** Expands `word` into ONE string: no word splitting (BuildKit `ProcessWord`). */
export function processWord(word: string, env: Env, options: ShellLexOptions = {}): string {
  return processWordWithMatches(word, env, options).result;
}

/**
 * Expands `word`, then splits it on unquoted white space, the value of an
 * unquoted `$VAR` included; quoted text never splits (BuildKit `ProcessWords`).
 */
export function processWords(word: string, env: Env, options: ShellLexOptions = {}): string[] {
  return processWordWithMatches(word, env, options).words;
}

/** The same functions bound to one set of options (one per Dockerfile escape token). */
export class ShellLexer {
  constructor(readonly options: ShellLexOptions = {}) {}

  processWord(word: string, env: Env): string {
    return processWord(word, env, this.options);
  }

  processWords(word: string, env: Env): string[] {
    return processWords(word, env, this.options);
  }

  processWordWithMatches(word: string, env: Env): ProcessWordResult {
    return processWordWithMatches(word, env, this.options);
  }
}
