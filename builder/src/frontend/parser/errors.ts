/**
 * Parser error codes, and the step that gives a bare line-level problem its
 * location (BuildKit's `withLocation`): line parsers only know the text they
 * were handed, the scanner loop knows the lines.
 */
import { DockerfileError, rangeOf } from '@tsbuild/core';

export const ParseErrorCode = {
  /** No instruction at all (empty file, only comments). */
  Empty: 'DOCKERFILE_EMPTY',
  /** A line over 65535 bytes (Go's bufio.Scanner limit). */
  LineTooLong: 'DOCKERFILE_LINE_TOO_LONG',
  /** `# escape=` with a value other than `\` or a backtick. */
  InvalidDirective: 'DOCKERFILE_INVALID_DIRECTIVE',
  /** The same parser directive twice. */
  RepeatedDirective: 'DOCKERFILE_REPEATED_DIRECTIVE',
  /** A JSON array holding something other than strings. */
  JsonNotStrings: 'DOCKERFILE_JSON_NOT_STRINGS',
  /** `ENV key` / `LABEL key` without a value. */
  MissingArguments: 'DOCKERFILE_MISSING_ARGUMENTS',
  /** `ENV a=b c`: a word without `=` in the key=value form. */
  InvalidKeyValue: 'DOCKERFILE_INVALID_KEY_VALUE',
  UnterminatedHeredoc: 'DOCKERFILE_UNTERMINATED_HEREDOC',
  /** Unbalanced quotes in a heredoc word. */
  InvalidHeredoc: 'DOCKERFILE_INVALID_HEREDOC',
} as const;
export type ParseErrorCode = (typeof ParseErrorCode)[keyof typeof ParseErrorCode];

/** A problem found by a line-level function, before its lines are known. */
export class LineError extends Error {
  constructor(message: string, readonly code: ParseErrorCode) {
    super(message);
  }
}

/**
 * Wraps a LineError (or rethrows anything else unchanged) as a DockerfileError
 * spanning `startLine..endLine` (1-based; whole lines, so character 0).
 */
export function withLocation(err: unknown, file: string, startLine: number, endLine: number, lineText?: string): never {
  if (err instanceof LineError) {
    const end = Math.max(startLine, endLine);
    throw new DockerfileError(err.message, file, rangeOf(startLine, 0, end, 0), { code: err.code, cause: err });
  }
  void lineText;
  throw err;
}
