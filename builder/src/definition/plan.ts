/**
 * The build plan (`build.plan`'s vertices): each vertex of a definition as a
 * progress UI shows it, inputs by digest.
 */
import type { Digest, SourceRange } from '@tsbuild/core';
import type { Definition } from './types.js';

export interface PlannedVertex {
  id: Digest;
  /** As BuildKit names steps: `[build 2/4] RUN make`, `[internal] load build context`. */
  name: string;
  /** Stage name or index, when the vertex comes from a Dockerfile stage. */
  stage?: string;
  /** The Dockerfile range of the instruction. */
  range?: SourceRange;
  inputs: Digest[];
}

export function planOf(definition: Definition): PlannedVertex[] {
  const { vertices } = definition;
  return vertices.map((v) => ({ id: v.digest, name: v.name, stage: v.stage, range: v.range, inputs: v.inputs.map((i) => vertices[i]!.digest) }));
}
