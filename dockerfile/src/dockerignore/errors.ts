import { InvalidArgumentError, type TsbuildErrorOptions } from '@tsbuild/core';

/**
 * A malformed .dockerignore pattern (Go's `syntax error in pattern`, e.g. `[`,
 * `[x-]` or a trailing `\`), or the lone exclusion `!`. Carries the pattern.
 */
export class PatternSyntaxError extends InvalidArgumentError {
  readonly pattern: string;
  constructor(pattern: string, options: TsbuildErrorOptions = {}, reason = 'syntax error in pattern') {
    super(`${reason}: ${JSON.stringify(pattern)}`, { code: 'DOCKERIGNORE_BAD_PATTERN', ...options });
    this.pattern = pattern;
  }
}
