/**
 * The `tsbuild` process around `main` (issue 13 point 3): whatever a bug lets
 * escape — an unhandled rejection, an uncaught exception, or a top-level
 * await left unsettled (a promise nothing will ever resolve, which Node ends
 * silently with exit code 13) — ends as one `tsbuild: internal error: …` line
 * and exit code 1, the stack only with --debug. A guard, not a cure: each such
 * line is a bug to fix where it starts.
 */
import { escapeControls } from './terminal-text.js';

type Main = (argv: string[]) => Promise<number>;

export async function runAsProcess(main: Main, argv: string[]): Promise<void> {
  const debug = argv.includes('--debug') || argv.includes('-D');
  let settled = false;
  const report = (what: string, err?: unknown) => {
    const message = err instanceof Error ? err.message : err === undefined ? '' : String(err);
    process.stderr.write(`tsbuild: internal error: ${escapeControls(what + (message ? `: ${message}` : ''))}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  };
  const crash = (what: string) => (err: unknown) => {
    report(what, err);
    settled = true; // reported: the 'exit' listener has nothing to add
    process.exit(1);
  };
  process.on('unhandledRejection', crash('unhandled rejection'));
  process.on('uncaughtException', crash('uncaught exception'));
  process.on('exit', () => {
    if (settled) return;
    // Reached only when the event loop ran dry while main's promise was pending.
    report('the command stopped before finishing (an operation was never settled)');
    process.exitCode = 1;
  });
  try {
    process.exitCode = await main(argv);
  } finally {
    settled = true;
  }
}
