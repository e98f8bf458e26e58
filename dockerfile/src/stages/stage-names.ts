/**
 * Stage name checks (BuildKit dockerfile2llb/validations.go
 * `validateStageNames`): ReservedStageName for `AS scratch` / `AS context`,
 * DuplicateStageName for a name an earlier stage has. Both are warnings: a
 * duplicate name builds (stage-lookup.ts says which stage each reference
 * then means).
 */
import type { Stage } from '../instructions/index.js';
import type { Warning } from '../parser/index.js';
import { lintWarning } from './lint.js';

const RESERVED = new Set(['scratch', 'context']);

export function validateStageNames(stages: readonly Stage[], warnings: Warning[]): void {
  const seen = new Set<string>();
  for (const stage of stages) {
    const name = stage.name;
    if (name === undefined) continue;
    const range = stage.from.stageNameRange ?? stage.from.range;
    if (RESERVED.has(name)) {
      warnings.push(lintWarning('ReservedStageName', `Stage name should not use the same name as reserved stage ${JSON.stringify(name)}`, range));
    }
    if (seen.has(name)) {
      warnings.push(lintWarning('DuplicateStageName', `Duplicate stage name ${JSON.stringify(name)}, stage names should be unique`, range));
    }
    seen.add(name);
  }
}
