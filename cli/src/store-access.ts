import type { Store } from '@tsbuild/store';
import type { CliContext } from './context.js';
import { openStoreReclaiming } from './reclaim.js';

/**
 * Opens the store at the command's --root, warning once on stderr if overlayfs
 * is unavailable, and reclaims what dead tsbuild processes left (reclaim.ts)
 * unless `reclaim: false` (fsck, which reports it instead).
 */
export function storeFor(ctx: CliContext, { reclaim = true }: { reclaim?: boolean } = {}): Promise<Store> {
  return openStoreReclaiming({
    root: ctx.root,
    onWarning: (w) => ctx.stderr.write(`warning: ${w.message}\n`),
    reclaim,
  });
}
