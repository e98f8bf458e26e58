/** COPY [--from] [--chown] [--chmod] [--link] [--parents] [--exclude]… <src>… <dest>. */
import type { ParseContext } from './context.js';
import { sourcesAndDest } from './copy-sources.js';
import type { CopyInstruction } from './types.js';

export function parseCopy(ctx: ParseContext): CopyInstruction {
  const flags = ctx.flags({ from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' });
  const out: CopyInstruction = {
    ...ctx.base('COPY', flags),
    ...sourcesAndDest(ctx, 'COPY'),
    jsonForm: ctx.json,
    link: flags.bool('link') ?? false,
    parents: flags.bool('parents') ?? false,
    exclude: flags.strings('exclude').map((f) => f.value ?? ''),
  };
  for (const key of ['from', 'chown', 'chmod'] as const) {
    const v = flags.string(key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}
