/**
 * WORKDIR: expanded, made absolute against the previous one (BuildKit
 * `NormalizeWorkdir`); a directory other than `/` is created (a layer).
 */
import { posix } from 'node:path';
import type { WorkdirInstruction } from '../instructions/index.js';
import { withConfig } from './build-state.js';
import type { Dispatcher } from './dispatch-context.js';

export const dispatchWorkdir: Dispatcher<WorkdirInstruction> = (inst, state, ctx) => {
  const p = ctx.expand(inst.path, state, inst.range);
  if (!state.workdirSet && !posix.isAbsolute(p) && !/^[A-Za-z]:[\\/]/.test(p)) {
    ctx.warn('WorkdirRelativePath', `Relative workdir ${JSON.stringify(p)} can have unexpected results if the base image changes`, inst.range);
  }
  const wd = normalizeWorkdir(state.config.WorkingDir ?? '', p);
  return {
    state: { ...withConfig(state, { WorkingDir: wd }), workdirSet: true },
    expanded: { kind: 'WORKDIR', path: wd },
    createdBy: `WORKDIR ${wd}`,
    makesLayer: wd !== '/',
  };
};

export function normalizeWorkdir(current: string, requested: string): string {
  if (requested === '') return current || '/';
  const joined = posix.isAbsolute(requested) ? requested : posix.join('/', current || '/', requested);
  const clean = posix.normalize(joined);
  return clean.length > 1 ? clean.replace(/\/$/, '') : clean;
}
