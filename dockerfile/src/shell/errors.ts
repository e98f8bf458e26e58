import { InvalidArgumentError } from '@tsbuild/core';

/**
 * Why a shell word could not be expanded:
 * - `SHELL_SYNTAX`: malformed input (unterminated quote, `${}`, `${V=w}`, `${V//}`…);
 * - `SHELL_VARIABLE_REQUIRED`: `${V?msg}` / `${V:?msg}` on an unset (or empty) variable;
 * - `SHELL_BAD_PATTERN`: a `#`/`%`/`/` pattern with an invalid escape.
 */
export type ShellErrorCode = 'SHELL_SYNTAX' | 'SHELL_VARIABLE_REQUIRED' | 'SHELL_BAD_PATTERN';

/**
 * An expansion failure. The message reads like BuildKit's
 * (`failed to process "<word>": <reason>`); `word` is the whole input word and
 * `reason` the one-line cause, so the frontend can wrap it into a
 * DockerfileError with the instruction's source range.
 */
export class ShellLexError extends InvalidArgumentError {
  readonly word: string;
  readonly reason: string;
  constructor(code: ShellErrorCode, word: string, reason: string) {
    super(`failed to process ${JSON.stringify(word)}: ${reason}`, { code });
    this.word = word;
    this.reason = reason;
  }
}

/**
 * Thrown inside the lexer, before the whole word is known; `process` turns it
 * into a ShellLexError carrying the word.
 */
export class LexFailure extends Error {
  readonly code: ShellErrorCode;
  constructor(code: ShellErrorCode, reason: string) {
    super(reason);
    this.code = code;
  }
}
