/**
 * SecretsUsedInArgOrEnv (BuildKit `validateNoSecretKey`): an ARG or ENV name
 * made of words like `password`, `token`, `secret` ends up in the image
 * config or history; BuildKit suggests `RUN --mount=type=secret` instead.
 */
import type { SourceRange } from '@tsbuild/core';
import type { DispatchContext } from './dispatch-context.js';

const SECRET_TOKENS = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const ALLOWED_TOKENS = /(?:_|^)(?:public)(?:_|$)/i;

export function isSecretKey(name: string): boolean {
  return SECRET_TOKENS.test(name) && !ALLOWED_TOKENS.test(name);
}

export function checkSecretKey(kind: 'ARG' | 'ENV', name: string, range: SourceRange, ctx: DispatchContext): void {
  if (isSecretKey(name)) {
    ctx.warn('SecretsUsedInArgOrEnv', `Do not use ARG or ENV instructions for sensitive data (${kind} ${JSON.stringify(name)})`, range);
  }
}
