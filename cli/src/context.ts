import type { Writable } from 'node:stream';

/** What every command gets: where the store is, where to write, and the process's abort signal. */
export interface CliContext {
  root: string;
  debug: boolean;
  stdout: Writable;
  stderr: Writable;
  stdin: NodeJS.ReadableStream;
  /** Aborted on SIGINT/SIGTERM: commands pass it down so Ctrl-C cancels cleanly. */
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
}

/** `--root`, else $TSBUILD_ROOT, else ~/.local/share/tsbuild (XDG_DATA_HOME honoured): one rule, in core. */
export { defaultStoreRoot as defaultRoot } from '@tsbuild/core';
