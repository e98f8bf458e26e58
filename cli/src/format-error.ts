import { DockerfileError, ExecError, TsbuildError } from '@tsbuild/core';
import { escapeControls } from './terminal-text.js';

/**
 * One clear line for the user (plus the Dockerfile snippet where there is one);
 * the stack only with --debug. Everything in it may carry user text (Dockerfile
 * lines, paths, refs, a container's output): control characters are escaped.
 */
export function formatError(err: unknown, { debug, readSource }: { debug: boolean; readSource?: (file: string) => string | undefined }): string {
  const lines: string[] = [];
  if (err instanceof DockerfileError) {
    lines.push(`error: ${err.location}: ${err.message}`);
    const snippet = sourceSnippet(err, readSource);
    if (snippet) lines.push(snippet);
  } else if (err instanceof ExecError) {
    lines.push(`error: ${err.message}`);
    if (err.outputTail) lines.push(indent(err.outputTail.trimEnd()));
  } else if (err instanceof TsbuildError) {
    lines.push(`error: ${err.message}`);
  } else if (err instanceof Error) {
    lines.push(`error: ${err.message}`);
  } else {
    lines.push(`error: ${String(err)}`);
  }
  if (debug && err instanceof Error) {
    lines.push(err.stack ?? '');
    let cause = err.cause;
    while (cause instanceof Error) {
      lines.push(`caused by: ${cause.stack ?? cause.message}`);
      cause = cause.cause;
    }
  }
  return escapeControls(lines.join('\n')) + '\n';
}

function sourceSnippet(err: DockerfileError, readSource?: (file: string) => string | undefined): string | undefined {
  if (!err.range || !readSource) return undefined;
  const text = readSource(err.file);
  if (text === undefined) return undefined;
  const all = text.split('\n');
  const { start, end } = err.range;
  const out: string[] = [];
  for (let n = start.line; n <= Math.min(end.line, start.line + 4); n++) {
    if (all[n - 1] === undefined) break;
    out.push(` ${String(n).padStart(4)} | ${all[n - 1]}`);
    // The caret goes under the range's first line, also when more lines follow (an unterminated heredoc's body).
    if (n === start.line) out.push(`      | ${' '.repeat(start.character)}^`);
  }
  return out.join('\n');
}

function indent(s: string): string {
  return s.split('\n').map((l) => `  ${l}`).join('\n');
}
