import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The store directory: `$TSBUILD_ROOT`, else `$XDG_DATA_HOME/tsbuild`, else `~/.local/share/tsbuild`. */
export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TSBUILD_ROOT) return resolve(env.TSBUILD_ROOT);
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'tsbuild');
}
