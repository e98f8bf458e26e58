/**
 * Running a short host command (mount, umount, the runtime's kill/delete)
 * to completion. Not for the container process itself: that one streams.
 */
import { execFile } from 'node:child_process';
import { InternalError } from '@tsbuild/core';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file args`; resolves with the exit code and output, never rejects for a non-zero exit. */
export function runCommand(file: string, args: string[]): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { encoding: 'utf8', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err && typeof (err as { code?: unknown }).code !== 'number') return reject(err);
      resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stdout, stderr });
    });
  });
}

/** Like runCommand, but a non-zero exit is an InternalError carrying stderr. */
export async function mustRun(file: string, args: string[]): Promise<string> {
  const r = await runCommand(file, args);
  if (r.code !== 0) throw new InternalError(`${file} ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}
