/**
 * Parser error codes, and the step that gives a bare line-level problem its
 * location (BuildKit's `withLocation`): line parsers only know the text they
 * were handed, the scanner loop knows the lines.
 */
import { DockerfileError, rangeOf, type SourceRange } from '@tsbuild/core';

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
  /** `column`: where in the instruction's first line the problem is (0-based), when the finder knows it. */
  constructor(message: string, readonly code: ParseErrorCode, readonly column?: number) {
    super(message);
  }
}

/**
 * A DockerfileError that also carries the text of the lines its range covers,
 * so the CLI can print the snippet without reading the file again.
 */
export class DockerfileSyntaxError extends DockerfileError {
  readonly lineText: string;
  constructor(message: string, file: string, range: SourceRange, code: string, lineText: string, cause?: unknown) {
    super(message, file, range, { code, cause });
    this.lineText = lineText;
  }
}

/** The text of lines `start..end` (1-based) of `lines` (each with its newline), final newline dropped. */
export function linesText(lines: readonly string[], start: number, end: number): string {
  return lines.slice(Math.max(start, 1) - 1, Math.max(start, end)).join('').replace(/\r?\n$/, '');
}

/**
 * Wraps a LineError (or rethrows anything else unchanged) as a
 * DockerfileSyntaxError spanning `startLine..endLine` (1-based). The lines are
 * BuildKit's (parser.go `Parse`: `withLocation(err, startLine, currentLine)`,
 * whole lines, Character 0, printed by errdefs `Source.Print` as `>>>` rows).
 * tsbuild prints a caret, so the range starts where the instruction starts
 * (after indentation), or at the column the LineError names (the `<<EOF` of an
 * unterminated heredoc), and ends at the end of the last line's text.
 */
export function withLocation(err: unknown, file: string, lines: readonly string[], startLine: number, endLine: number): never {
  if (err instanceof LineError) {
    const end = Math.max(startLine, endLine);
    const first = trimNewlineEnd(lines[startLine - 1] ?? '');
    const column = err.column ?? first.length - first.trimStart().length;
    const range = rangeOf(startLine, column, end, trimNewlineEnd(lines[end - 1] ?? '').length);
    throw new DockerfileSyntaxError(err.message, file, range, err.code, linesText(lines, startLine, end), err);
  }
  throw err;
}

function trimNewlineEnd(line: string): string {
  return line.replace(/\r?\n$/, '');
}
