/**
 * COPY / ADD / WORKDIR steps → file actions. Heredoc sources of COPY/ADD
 * become mkfile actions (bodies as the frontend expanded them; mode 0644
 * unless --chmod).
 * ADD of a URL or git repository needs the network sources, which are not
 * there yet: a DockerfileError naming the instruction.
 */
import { posix } from 'node:path';
import { DockerfileError } from '@tsbuild/core';
import type { Step } from '../frontend/stages/index.js';
import type { FileAction } from '../worker/file-op.js';

export function convertCopy(step: Step, file: string, fromInput: number | undefined): FileAction[] {
  if (step.expanded.kind !== 'COPY' && step.expanded.kind !== 'ADD') throw new Error('convertCopy: not a COPY/ADD step');
  const e = step.expanded;
  const inline = e.inlineFiles;
  const inlineNames = new Set(inline.map((f) => f.name));
  const sources = e.sources.filter((s) => !inlineNames.has(s));
  if (e.kind === 'ADD' && fromInput === undefined && sources.some((s) => /^(https?|git):\/\/|^git@|\.git(#|$)/.test(s))) {
    throw new DockerfileError('ADD from a URL or git repository is not supported yet', file, step.range, { code: 'BUILD_UNSUPPORTED' });
  }
  const cwd = step.state.workdir;
  const actions: FileAction[] = [];
  if (sources.length > 0) {
    actions.push({
      kind: 'copy',
      from: fromInput === undefined ? { context: true } : { input: fromInput },
      sources,
      dest: e.dest,
      cwd,
      chown: e.chown,
      chmod: e.chmod,
      exclude: e.exclude,
      parents: e.parents,
      mode: e.kind === 'ADD' ? 'add' : 'copy',
    });
  }
  const destAbs = posix.resolve(cwd, e.dest);
  const intoDir = e.dest.endsWith('/') || inline.length + sources.length > 1;
  for (const f of inline) {
    actions.push({ kind: 'mkfile', path: intoDir ? posix.join(destAbs, f.name) : destAbs, data: f.data, chown: e.chown, chmod: e.chmod });
  }
  return actions;
}

export function convertWorkdir(step: Step): FileAction[] {
  if (step.expanded.kind !== 'WORKDIR') throw new Error('convertWorkdir: not a WORKDIR step');
  const path = posix.resolve(step.state.workdir, step.expanded.path);
  return [{ kind: 'mkdir', path, owner: step.state.user || undefined, mode: 0o755 }];
}
