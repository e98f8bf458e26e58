/**
 * RUN: the command is never expanded (the shell does that at run time); mount
 * option values are (BuildKit expands each `key=value`), then parsed and their
 * `from=` resolved. History: `RUN |N K=V… <argv> # buildkit` (runCommandString).
 */
import type { SourceRange } from '@tsbuild/core';
import { parseMountSpec, type RunInstruction } from '../instructions/index.js';
import { parseHeredoc } from '../parser/index.js';
import { expansionEnv, snapshot, type BuildState } from './build-state.js';
import { StageErrorCode, type DispatchContext, type Dispatcher } from './dispatch-context.js';

export const dispatchRun: Dispatcher<RunInstruction> = (inst, state, ctx) => {
  const mounts = inst.mounts.map((m) => {
    const raw = m.spec && !m.raw.includes('$') ? m.raw : expandMountFields(m.raw, state, ctx, m.range);
    let spec;
    try {
      spec = m.spec && raw === m.raw ? m.spec : parseMountSpec(raw);
    } catch (err) {
      return ctx.fail(StageErrorCode.InvalidMount, `invalid mount ${JSON.stringify(raw)}: ${(err as Error).message}`, m.range);
    }
    return spec.from === undefined ? { ...spec } : { ...spec, fromSource: ctx.resolveSource(spec.from, m.range, 'mount', spec.target) };
  });
  const argv = runArgv(inst, state);
  return {
    state,
    expanded: {
      kind: 'RUN', command: inst.command, argv, mounts,
      ...(inst.network ? { network: inst.network } : {}), ...(inst.security ? { security: inst.security } : {}),
    },
    createdBy: `RUN ${runCommandString(argv, state)} # buildkit`,
    makesLayer: true,
  };
};

function expandMountFields(raw: string, state: BuildState, ctx: DispatchContext, range: SourceRange): string {
  return raw.split(',').map((field) => {
    const eq = field.indexOf('=');
    return eq < 0 ? field : `${field.slice(0, eq + 1)}${ctx.expand(field.slice(eq + 1), state, range)}`;
  }).join(',');
}

/**
 * The argv of a RUN (BuildKit `dispatchRun`): exec form as written; shell form
 * in the shell. With heredocs: a lone `<<EOF` runs its body (a `#!` body is
 * mounted at `/dev/pipes/<name>` and run from there); otherwise the heredocs
 * are appended to the command for the shell to read.
 */
export function runArgv(inst: RunInstruction, state: BuildState): string[] {
  if (inst.command.form === 'exec') return [...inst.command.args];
  let arg = inst.command.command;
  const first = inst.files[0];
  if (first) {
    if (parseHeredoc(arg)) {
      arg = state.platform.os !== 'windows' && first.data.startsWith('#!') ? `/dev/pipes/${first.name}` : first.data;
    } else {
      for (const f of inst.files) arg += `\n${f.data}${f.name}`;
    }
  }
  return [...snapshot(state).shell, arg];
}

/** BuildKit `runCommandString`: the stage's ARGs (`|N K=V…`, ENV winning) before the argv. */
export function runCommandString(argv: readonly string[], state: BuildState): string {
  const env = expansionEnv(state);
  const pairs = new Map<string, string>();
  for (const [k, v] of state.args) pairs.set(k, env.get(k) ?? v ?? '');
  const prefix = pairs.size ? [`|${pairs.size}`, ...[...pairs].map(([k, v]) => `${k}=${v}`)] : [];
  return [...prefix, ...argv].join(' ');
}
