import { access, constants, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from '@tsbuild/core';
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

/**
 * Checks the store root before a command touches it, so a mistaken --root or
 * $TSBUILD_ROOT is one clear line instead of a raw `EEXIST … mkdir` from
 * whichever module first creates a directory under it: the root, or its
 * nearest existing ancestor, must be a directory; one that does not exist yet
 * must be creatable there (code STORE_ROOT_INVALID).
 */
export async function checkStoreRoot(root: string): Promise<void> {
  const bad = (why: string) => new InvalidArgumentError(`store root ${root} (--root or $TSBUILD_ROOT): ${why}`, { code: 'STORE_ROOT_INVALID' });
  let path = resolve(root);
  for (;;) {
    const st = await stat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      if (err.code === 'ENOTDIR') return 'notdir' as const;
      throw bad(err.code === 'EACCES' ? 'permission denied' : err.message);
    });
    if (st === 'notdir') {
      path = dirname(path);
      continue;
    }
    if (st) {
      if (!st.isDirectory()) throw bad(path === resolve(root) ? 'not a directory' : `${path} is not a directory`);
      if (path !== resolve(root)) await access(path, constants.W_OK | constants.X_OK).catch(() => { throw bad(`cannot create it: ${path} is not writable`); });
      return;
    }
    const parent = dirname(path);
    if (parent === path) return;
    path = parent;
  }
}
