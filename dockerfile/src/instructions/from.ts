/** FROM [--platform=<p>] <image> [AS <name>] (BuildKit `parseFrom`). */
import type { ParseContext } from './context.js';
import { InstructionErrorCode } from './errors.js';
import type { FromInstruction } from './types.js';

const validStageName = /^[a-z][a-z0-9-_.]*$/;

export function parseFrom(ctx: ParseContext): FromInstruction {
  const flags = ctx.flags({ platform: 'string' });
  const args = ctx.args;
  if (args.length !== 1 && args.length !== 3) {
    ctx.fail(InstructionErrorCode.ArgumentCount, 'FROM requires either one or three arguments');
  }
  const out: FromInstruction = { ...ctx.base('FROM', flags), image: args[0]!, imageRange: ctx.argRange(0) };
  const platform = flags.string('platform');
  if (platform !== undefined) out.platform = platform;
  if (args.length === 3) {
    const as = args[1]!;
    if (as.toLowerCase() !== 'as') ctx.fail(InstructionErrorCode.ArgumentCount, 'FROM requires either one or three arguments');
    const name = args[2]!;
    const nameRange = ctx.argRange(2);
    if (!validStageName.test(name.toLowerCase())) {
      ctx.fail(
        InstructionErrorCode.InvalidStageName,
        `invalid name for build stage: ${JSON.stringify(name)}, name can't start with a number or contain symbols`,
        nameRange,
      );
    }
    if (name !== name.toLowerCase()) ctx.warn('StageNameCasing', `Stage name '${name}' should be lowercase`, nameRange);
    const kw = ctx.node.value;
    const kwUpper = kw === kw.toUpperCase();
    const kwLower = kw === kw.toLowerCase();
    if ((kwUpper && as !== as.toUpperCase()) || (kwLower && as !== as.toLowerCase())) {
      ctx.warn('FromAsCasing', `'${as}' and '${kw}' keywords' casing do not match`, ctx.argRange(1));
    }
    out.stageName = name.toLowerCase();
    out.stageNameRange = nameRange;
  }
  return out;
}
