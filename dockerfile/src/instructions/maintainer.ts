/** MAINTAINER <name>: deprecated in favour of a label; always warns MaintainerDeprecated. */
import type { ParseContext } from './context.js';
import { singleValue } from './single-value.js';
import type { MaintainerInstruction } from './types.js';

export function parseMaintainer(ctx: ParseContext): MaintainerInstruction {
  const maintainer = singleValue(ctx, 'MAINTAINER');
  ctx.warn('MaintainerDeprecated', 'Maintainer instruction is deprecated in favor of using label', ctx.keywordRange);
  return { ...ctx.base('MAINTAINER', ctx.noFlags()), maintainer };
}
