import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test/support/fixtures.js';
import { parseCheckDirective } from '../src/build-check.js';
import { tsbuild } from './support.js';

describe('tsbuild build --print and --check (frontend only)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  const context = (name: string, dockerfile: string): string => {
    const dir = join(tmp.path, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), dockerfile);
    return dir;
  };
  before(() => {
    tmp = tempDir('tsbuild-build-frontend-');
    root = join(tmp.path, 'store');
  });
  after(() => tmp.cleanup());

  it('--print outline shows the multistage example’s stages and steps', async () => {
    const r = await tsbuild(root, 'build', '--print', 'outline', 'examples/Dockerfiles/multistage');
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.include('stage #0 numbers');
    expect(r.stdout).to.include('stage #1 words');
    expect(r.stdout).to.include('build args: BASE=busybox:latest');
    expect(r.stdout).to.match(/14 +COPY --from=.*numbers \/numbers \/data\/numbers/);
  });

  it('--print dot and json; --target and --build-arg reach the frontend', async () => {
    const dot = await tsbuild(root, 'build', '--print=dot', 'examples/Dockerfiles/multistage');
    expect(dot.stdout).to.match(/^digraph/);
    const json = await tsbuild(root, 'build', '--print', 'json', '--target', 'words', '--build-arg', 'BASE=busybox:1.36', 'examples/Dockerfiles/multistage');
    expect(json.code).to.equal(0);
    const graph = JSON.parse(json.stdout);
    expect(JSON.stringify(graph)).to.include('busybox:1.36');
    expect(JSON.stringify(graph)).to.include('words');
  });

  it('--check prints each warning with file:line:col and exits 0 for warnings', async () => {
    const dir = context('warn', 'FROM busybox AS Build\nFROM busybox\nCOPY --from=Build /a /a\nCMD echo hi\n');
    const r = await tsbuild(root, 'build', '--check', dir);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^Dockerfile:4:1: warning: JSONArgsRecommended: /m);
    expect(r.stdout).to.match(/Check complete, \d+ warnings? ha(s|ve) been found!\n$/);
  });

  it('--check reports a duplicate stage name as DuplicateStageName and exits 0: the Dockerfile builds (issue 12, point 9)', async () => {
    const dir = context('duplicate', 'FROM busybox AS x\nRUN true\nFROM busybox AS x\nRUN true\nFROM busybox\nCOPY --from=x /etc/passwd /p\n');
    const r = await tsbuild(root, 'build', '--check', dir);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^Dockerfile:3:\d+: warning: DuplicateStageName: Duplicate stage name "x", stage names should be unique/m);
    expect(r.stdout).to.match(/Check complete, 1 warning has been found!\n$/);
  });

  it('--check with `# check=error=true` fails on a warning; skip= hides a rule', async () => {
    const strict = context('strict', '# check=error=true\nFROM busybox\nCMD echo hi\n');
    const r = await tsbuild(root, 'build', '--check', strict);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.match(/^Dockerfile:3:1: error: JSONArgsRecommended: /m);
    const skipped = context('skipped', '# check=skip=JSONArgsRecommended;error=true\nFROM busybox\nCMD echo hi\n');
    const s = await tsbuild(root, 'build', '--check', skipped);
    expect(s.code).to.equal(0);
    expect(s.stdout).to.equal('Check complete, no warnings found.\n');
  });

  it('a malformed Dockerfile: one located error line with the snippet, exit 1 (--check and --print)', async () => {
    const dir = context('bad', 'FROM busybox\nRUN true\nRUN --mount=type=nope true\n');
    for (const mode of [['--check'], ['--print', 'outline']]) {
      const r = await tsbuild(root, 'build', ...mode, dir);
      expect(r.code).to.equal(1);
      expect(r.stdout).to.equal('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines[0]).to.match(/^error: Dockerfile:3:\d+: /);
      expect(lines[1]).to.equal('    3 | RUN --mount=type=nope true');
    }
  });

  it('-f names another Dockerfile (relative to the working directory); a missing one or context is one line', async () => {
    const dir = context('other', 'FROM busybox\n');
    writeFileSync(join(dir, 'Dockerfile.dev'), 'FROM busybox AS dev\nRUN true\n');
    const r = await tsbuild(root, 'build', '--print', 'outline', '-f', join(dir, 'Dockerfile.dev'), dir);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('stage #0 dev');
    const missing = await tsbuild(root, 'build', '--check', '-f', join(dir, 'nope'), dir);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/^error: .*nope: cannot read the Dockerfile: no such file/);
    const noContext = await tsbuild(root, 'build', '--check', join(tmp.path, 'absent'));
    expect(noContext.code).to.equal(1);
    expect(noContext.stderr).to.match(/is not a directory/);
  });

  /** The CLI in a child process from source, for what reads the real stdin. */
  const cli = (input: Buffer | string, ...argv: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--conditions', 'tsbuild-source', '--input-type=module', '-e',
      "const { main } = await import('./cli/src/main.ts'); process.exitCode = await main(process.argv.slice(1));", '--', '--root', root, ...argv],
    { input, encoding: 'utf8' });

  it('-f - reads the Dockerfile from stdin', () => {
    const dir = context('stdin-df', 'FROM busybox AS ignored\n');
    const r = cli('FROM busybox AS fromstdin\nRUN true\n', 'build', '--print', 'outline', '-f', '-', dir);
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(0);
    expect(r.stdout).to.include('stage #0 fromstdin');
  });

  it('- takes the context as a (gzipped) tar on stdin and removes it afterwards', () => {
    const dir = context('tarred', 'FROM busybox AS tarred\nRUN true\n');
    const tar = spawnSync('tar', ['-czf', '-', '-C', dir, '.']).stdout;
    const r = cli(tar, 'build', '--print', 'outline', '-');
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(0);
    expect(r.stdout).to.include('stage #0 tarred');
    const tmpDir = join(root, 'tmp');
    expect(existsSync(tmpDir) ? readdirSync(tmpDir) : []).to.deep.equal([]);
  });

  it('a required secret whose source is missing fails before the build, naming the source only', async () => {
    const dir = context('secret', 'FROM busybox\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\n');
    const env = await tsbuild(root, 'build', '--secret', 'id=tok,env=TSBUILD_TEST_UNSET_VAR,required', dir);
    expect(env.code).to.equal(1);
    expect(env.stderr).to.equal('error: secret "tok": environment variable TSBUILD_TEST_UNSET_VAR is not set\n');
    const file = await tsbuild(root, 'build', '--secret', `id=tok,src=${join(dir, 'absent')},required`, dir);
    expect(file.code).to.equal(1);
    expect(file.stderr).to.match(/^error: secret "tok": cannot read .*absent\n$/);
  });

  it('parses the check directive like BuildKit', () => {
    expect(parseCheckDirective('skip=A,B;error=true')).to.deep.equal({ skip: new Set(['A', 'B']), error: true });
    expect(parseCheckDirective('skip=all')).to.deep.equal({ skip: 'all', error: false });
    expect(parseCheckDirective(undefined)).to.deep.equal({ skip: new Set(), error: false });
  });
});
