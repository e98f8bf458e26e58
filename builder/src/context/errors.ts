/**
 * Typed errors of context selection. Messages follow BuildKit's wording so
 * users who know `docker build` recognise them.
 */
import { InvalidArgumentError, NotFoundError } from '@tsbuild/core';

/** A COPY/ADD source pattern matched nothing (after .dockerignore). */
export class ContextPathNotFoundError extends NotFoundError {
  readonly pattern: string;
  constructor(pattern: string) {
    super(`failed to compute cache key: "/${pattern.replace(/^\/+/, '')}": not found`, { code: 'CONTEXT_PATH_NOT_FOUND' });
    this.pattern = pattern;
  }
}

/** A source pattern would leave the context (`../x`). */
export class ContextPathEscapesError extends InvalidArgumentError {
  readonly pattern: string;
  constructor(pattern: string) {
    super(`failed to compute cache key: path ${JSON.stringify(pattern)} is outside of the build context`, {
      code: 'CONTEXT_PATH_ESCAPES',
    });
    this.pattern = pattern;
  }
}
