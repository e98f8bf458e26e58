/** Runs the CLI in-process with captured output, against a given store root. */
import { PassThrough } from 'node:stream';

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
  // import(), not a static import: mocha require()s test files, which tsx compiles to
  // CommonJS, while main import()s each command's module as ESM. A static import would
  // give main CommonJS copies of UsageError and core's error classes, and `instanceof`
  // would fail for errors thrown by the command's ESM copies.
  const { main } = await import('../src/main.js');
  const code = await main(['--root', root, ...argv], { stdout: stdout as never, stderr: stderr as never, env: { ...process.env, TSBUILD_ROOT: root } });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}
