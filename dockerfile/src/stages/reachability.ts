/**
 * Which stages the target needs: a depth-first walk over the dependency
 * edges from the target. A cycle among the stages it needs (COPY --from
 * pointing back) is an error at the edge that closes it.
 */
import { DockerfileError } from '@tsbuild/core';
import { StageErrorCode } from './dispatch-context.js';
import type { StageEdge } from './types.js';

export function reachableStages(target: number, edges: readonly StageEdge[], file: string, names: ReadonlyArray<string | undefined>): number[] {
  const out = new Map<number, StageEdge[]>();
  for (const e of edges) {
    const list = out.get(e.from) ?? [];
    list.push(e);
    out.set(e.from, list);
  }
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (i: number): void => {
    state.set(i, 'visiting');
    for (const e of out.get(i) ?? []) {
      const s = state.get(e.to);
      if (s === 'visiting') {
        throw new DockerfileError(`circular dependency detected on stage: ${names[e.to] ?? e.to}`, file, e.range, { code: StageErrorCode.Cycle });
      }
      if (s === undefined) visit(e.to);
    }
    state.set(i, 'done');
  };
  visit(target);
  return [...state.keys()].sort((a, b) => a - b);
}
