/**
 * `runOrThrow`: a run whose non-zero exit is an ExecError carrying the exit
 * code, the command and the last lines of combined output.
 */
import { ExecError } from '@tsbuild/core';
import { TailBuffer } from './output.js';
import type { ExecRequest, Executor, RunOptions } from './types.js';

export async function runOrThrow(executor: Executor, request: ExecRequest, options: RunOptions = {}): Promise<void> {
  const tail = new TailBuffer(10);
  const { exitCode } = await executor.run(request, { ...options, stdout: tail.tee(options.stdout), stderr: tail.tee(options.stderr) });
  if (exitCode !== 0) throw new ExecError(exitCode, request.process.args, tail.lines());
}
