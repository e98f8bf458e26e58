import { openStore, type Store } from '@tsbuild/store';
import type { CliContext } from './context.js';

/**
 * Opens the store at the command's --root, warning once on stderr if overlayfs
 * is unavailable. (What dead processes left was reclaimed by main: reclaim.ts.)
 */
export function storeFor(ctx: CliContext): Promise<Store> {
  return openStore({
    root: ctx.root,
    onWarning: (w) => ctx.stderr.write(`warning: ${w.message}\n`),
  });
}
