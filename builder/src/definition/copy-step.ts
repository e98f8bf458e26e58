/**
 * COPY / ADD / WORKDIR steps → file actions. Heredoc sources of COPY/ADD
 * become mkfile actions (bodies as the frontend expanded them; mode 0644
 * unless --chmod).
 * ADD of a URL or git repository copies out of that source's own vertex
 * (`remoteInputs`: source → input index): `/<filename>` of a download, `/` of
 * a checkout.
 *
 * Which sources ADD tries to extract (`mode: 'add'`: a tar, detected by
 * content, is extracted, anything else copied) is BuildKit's dispatchCopy
 * (frontend/dockerfile/dockerfile2llb/convert_copy.go): a local source (the
 * context or a stage) unless `--unpack=false`; a download only with
 * `--unpack=true` ("Resources from remote URLs are not decompressed"); a git
 * checkout never.
 */
import { posix } from 'node:path';
import type { Step } from '@tsbuild/dockerfile';
import type { FileAction } from './ops.js';
import { remoteSourceOf } from './remote-source.js';

export function copyStepToFileActions(step: Step, fromInput: number | undefined, remoteInputs: ReadonlyMap<string, number> = new Map()): FileAction[] {
  if (step.expanded.kind !== 'COPY' && step.expanded.kind !== 'ADD') throw new Error('copyStepToFileActions: not a COPY/ADD step');
  const e = step.expanded;
  const inline = e.inlineFiles;
  const inlineNames = new Set(inline.map((f) => f.name));
  const all = e.sources.filter((s) => !inlineNames.has(s));
  const sources = all.filter((s) => !remoteInputs.has(s));
  const cwd = step.state.workdir;
  const actions: FileAction[] = [];
  const unpack = step.instruction.kind === 'ADD' ? step.instruction.unpack : undefined;
  for (const src of all.filter((s) => remoteInputs.has(s))) {
    const remote = remoteSourceOf(src)!;
    const path = remote.kind === 'http' ? `/${remote.filename}` : '/';
    actions.push({
      kind: 'copy', from: { input: remoteInputs.get(src)! }, sources: [path], dest: e.dest, cwd,
      chown: e.chown, chmod: e.chmod, exclude: e.exclude, parents: false, mode: remote.kind === 'http' && unpack === true ? 'add' : 'copy',
    });
  }
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
      mode: e.kind === 'ADD' && unpack !== false ? 'add' : 'copy',
    });
  }
  const destAbs = posix.resolve(cwd, e.dest);
  const intoDir = e.dest.endsWith('/') || inline.length + sources.length > 1;
  for (const f of inline) {
    actions.push({ kind: 'mkfile', path: intoDir ? posix.join(destAbs, f.name) : destAbs, data: f.data, chown: e.chown, chmod: e.chmod });
  }
  return actions;
}

export function workdirStepToFileActions(step: Step): FileAction[] {
  if (step.expanded.kind !== 'WORKDIR') throw new Error('workdirStepToFileActions: not a WORKDIR step');
  const path = posix.resolve(step.state.workdir, step.expanded.path);
  return [{ kind: 'mkdir', path, owner: step.state.user || undefined, mode: 0o755 }];
}
