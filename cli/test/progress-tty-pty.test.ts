/**
 * Issue 15 point 3, through the real binary (cli/bin/tsbuild.js, the bundle:
 * run `node scripts/bundle-cli.mjs` after changing src) on a pseudo-terminal
 * made by util-linux `script`, so `--progress auto` picks the tty UI itself:
 * a rebuild says why under its step, lines carry BuildKit's colours (none with
 * NO_COLOR), and the output ends with the image's digest.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { tempDir } from '../../test/support/fixtures.js';

const bin = resolve(import.meta.dirname, '../bin/tsbuild.js');
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs tsbuild with its stdio on a pseudo-terminal; returns what the terminal received. */
function onPty(args: string[], env: NodeJS.ProcessEnv): string {
  const cmd = [bin, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL', env });
  expect(r.status, r.stdout + r.stderr).to.equal(0);
  return r.stdout;
}

describe('progress: tty on a pseudo-terminal', function () {
  this.timeout(120_000);
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('shows why a step ran, in colour, and ends with the digest; NO_COLOR has no colour codes', () => {
    const root = join(tmp.path, 'root');
    const ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY input.txt /input.txt\n');
    const env = { ...process.env };
    delete env['NO_COLOR'];
    delete env['BUILDKIT_COLORS'];
    const build = (e: NodeJS.ProcessEnv) => onPty(['--root', root, 'build', '-t', 'ttyx', ctx], e);

    writeFileSync(join(ctx, 'input.txt'), 'one\n');
    expect(build(env)).not.to.include('rebuilding:'); // a first build has nothing to explain
    writeFileSync(join(ctx, 'input.txt'), 'two\n');
    const colored = build(env);
    expect(colored).to.match(/ => => rebuilding: file "input\.txt" changed/);
    expect(colored).to.match(/\x1b\[34m => \[2\/2\] COPY input\.txt \/input\.txt +\d+\.\ds\x1b\[0m/); // colorRun: done
    expect(colored).to.match(/ => => exporting manifest sha256:[0-9a-f]{64}/);
    expect(colored).to.include('FINISHED');

    writeFileSync(join(ctx, 'input.txt'), 'three\n');
    const plain = build({ ...env, NO_COLOR: '1' });
    expect(plain).to.match(/ => => rebuilding: file "input\.txt" changed/);
    expect(plain).to.match(/ => => exporting manifest sha256:[0-9a-f]{64}/);
    // Cursor movement stays (the frame is redrawn); colour (SGR, `ESC[…m`) does not.
    expect(plain).not.to.match(/\x1b\[[0-9;]*m/);
  });
});
