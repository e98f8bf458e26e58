/** Runs the CLI in-process with captured output, against a given store root. */
import { PassThrough } from 'node:stream';
import { main } from '../src/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function tsbuild(root: string, ...argv: string[]): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(['--root', root, ...argv], { stdout: stdout as never, stderr: stderr as never, env: { ...process.env, TSBUILD_ROOT: root } });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}
