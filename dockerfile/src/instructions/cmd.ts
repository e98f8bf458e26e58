/** CMD <command>: shell form warns JSONArgsRecommended, as BuildKit's check does. */
import { commandForm } from './command-form.js';
import type { ParseContext } from './context.js';
import type { CmdInstruction, CommandForm } from './types.js';

export function parseCmd(ctx: ParseContext): CmdInstruction {
  return { ...ctx.base('CMD', ctx.noFlags()), command: execOrWarn(ctx, 'CMD') };
}

/** The command form; a shell form gets the JSONArgsRecommended warning. */
export function execOrWarn(ctx: ParseContext, name: 'CMD' | 'ENTRYPOINT'): CommandForm {
  const command = commandForm(ctx.args, ctx.json);
  if (command.form === 'shell' && ctx.args.length > 0) {
    ctx.warn(
      'JSONArgsRecommended',
      `JSON arguments recommended for ${name} to prevent unintended behavior related to OS signals`,
    );
  }
  return command;
}
