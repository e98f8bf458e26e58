/**
 * COPY and ADD: sources, destination and the `--from/--chown/--chmod/--exclude`
 * flags are expanded one word each (BuildKit's SourcesAndDest.Expand);
 * `--from` is taken as written and resolves to a stage (an edge) or an image. History:
 * `COPY [--parents] [--chown=…] [--chmod=…] <src>… [<<heredoc] <dest> # buildkit`.
 */
import type { AddInstruction, CopyInstruction } from '../instructions/index.js';
import { StageErrorCode, type Dispatcher } from './dispatch-context.js';
import type { StepSource } from './types.js';

export const dispatchCopy: Dispatcher<CopyInstruction | AddInstruction> = (inst, state, ctx) => {
  const x = (w: string) => ctx.expand(w, state, inst.range);
  const sources = inst.sources.map(x);
  const dest = x(inst.dest);
  const chown = inst.chown === undefined ? undefined : x(inst.chown);
  const chmod = inst.chmod === undefined ? undefined : x(inst.chmod);
  let from: StepSource | undefined;
  if (inst.kind === 'COPY' && inst.from !== undefined) {
    const flag = inst.flags.find((f) => f.name === 'from');
    // BuildKit toCommand: --from is never expanded; a value that would change is an error.
    if (!ctx.isLiteral(inst.from)) {
      ctx.fail(StageErrorCode.InvalidValue,
        'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround', flag?.range ?? inst.range);
    }
    from = ctx.resolveSource(inst.from, flag?.range ?? inst.range, 'copy');
  }
  const parts: string[] = [inst.kind];
  if (inst.kind === 'COPY' && inst.parents) parts.push('--parents');
  if (chown) parts.push(`--chown=${chown}`);
  if (chmod) parts.push(`--chmod=${chmod}`);
  parts.push(...sources, ...inst.inlineFiles.map((f) => `<<${f.name}`), dest);
  return {
    state,
    expanded: {
      kind: inst.kind, sources, dest, exclude: inst.exclude.map(x),
      inlineFiles: inst.inlineFiles.map((f) => ({ name: f.name, data: f.expand ? ctx.expandRaw(f.data, state, inst.range) : f.data })),
      link: inst.link, parents: inst.kind === 'COPY' && inst.parents,
      ...(inst.kind === 'ADD' && inst.checksum !== undefined ? { checksum: x(inst.checksum) } : {}),
      ...(from ? { from } : {}), ...(chown !== undefined ? { chown } : {}), ...(chmod !== undefined ? { chmod } : {}),
    },
    createdBy: `${parts.join(' ')} # buildkit`,
    makesLayer: true,
  };
};
