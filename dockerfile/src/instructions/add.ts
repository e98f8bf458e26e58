/** ADD [--chown] [--chmod] [--checksum] [--keep-git-dir] [--link] [--exclude]… [--unpack] <src>… <dest>. */
import type { ParseContext } from './context.js';
import { sourcesAndDest } from './copy-sources.js';
import type { AddInstruction } from './types.js';

export function parseAdd(ctx: ParseContext): AddInstruction {
  const flags = ctx.flags({
    chown: 'string', chmod: 'string', checksum: 'string', 'keep-git-dir': 'bool', link: 'bool', exclude: 'strings', unpack: 'bool',
  });
  const out: AddInstruction = {
    ...ctx.base('ADD', flags),
    ...sourcesAndDest(ctx, 'ADD'),
    jsonForm: ctx.json,
    link: flags.bool('link') ?? false,
    exclude: flags.strings('exclude').map((f) => f.value ?? ''),
  };
  for (const key of ['chown', 'chmod', 'checksum'] as const) {
    const v = flags.string(key);
    if (v !== undefined) out[key] = v;
  }
  const keepGitDir = flags.bool('keep-git-dir');
  if (keepGitDir !== undefined) out.keepGitDir = keepGitDir;
  const unpack = flags.bool('unpack');
  if (unpack !== undefined) out.unpack = unpack;
  return out;
}
