import { TsbuildError, type ErrorCategory } from '@tsbuild/core';
import type { VertexRef } from './types.js';

/**
 * A vertex failed. The message starts with the vertex name (what the user
 * recognises: `[stage 2/5] RUN make`); the op's error is the `cause` and
 * lends its category, so `isFailedPrecondition(err)` still sees an ExecError.
 */
export class VertexError extends TsbuildError {
  readonly vertex: VertexRef;
  constructor(vertex: VertexRef, cause: unknown) {
    const category: ErrorCategory = cause instanceof TsbuildError ? cause.category : 'Internal';
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(category, `${vertex.name}: ${reason}`, { code: 'SOLVER_VERTEX_FAILED', cause });
    this.vertex = vertex;
  }
}
