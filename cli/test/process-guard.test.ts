/**
 * Issue 13 point 3's guard: a bug that leaves main's promise unsettled (Node
 * would exit 13 without a word), rejects a promise nobody awaits, or throws
 * from a callback still ends the process with exit code 1 and one
 * `tsbuild: internal error: …` line, no stack unless --debug.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { expect } from 'chai';

const guard = resolve(import.meta.dirname, '../src/process-guard.ts');

function runWithGuard(mainBody: string, argv: string[] = []) {
  const code = `import { runAsProcess } from ${JSON.stringify(guard)};\nawait runAsProcess(async (argv) => { ${mainBody} }, ${JSON.stringify(argv)});`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stderr: r.stderr, lines: r.stderr.split('\n').filter(Boolean) };
}

describe('process guard around main (issue 13)', () => {
  it('an unsettled await becomes one internal-error line and exit 1, not a silent 13', () => {
    const r = runWithGuard('return new Promise(() => {});');
    expect(r.code).to.equal(1);
    expect(r.lines).to.deep.equal(['tsbuild: internal error: the command stopped before finishing (an operation was never settled)']);
  });

  it('an unhandled rejection becomes one line (escaped) and exit 1', () => {
    const r = runWithGuard(`Promise.reject(new Error('boom \\x1b[2J')); return new Promise((ok) => setTimeout(ok, 5000, 0));`);
    expect(r.code).to.equal(1);
    expect(r.lines).to.deep.equal(['tsbuild: internal error: unhandled rejection: boom \\x1b[2J']);
  });

  it('an uncaught exception becomes one line; --debug adds the stack', () => {
    const body = `setTimeout(() => { throw new Error('kaput'); }, 1); return new Promise((ok) => setTimeout(ok, 5000, 0));`;
    const plain = runWithGuard(body);
    expect(plain.code).to.equal(1);
    expect(plain.lines).to.deep.equal(['tsbuild: internal error: uncaught exception: kaput']);
    const debug = runWithGuard(body, ['--debug']);
    expect(debug.code).to.equal(1);
    expect(debug.lines[0]).to.equal('tsbuild: internal error: uncaught exception: kaput');
    expect(debug.stderr).to.match(/\n\s+at /);
  });

  it('a normal run keeps main’s exit code and prints nothing', () => {
    const r = runWithGuard('return 3;');
    expect(r.code).to.equal(3);
    expect(r.stderr).to.equal('');
  });
});
