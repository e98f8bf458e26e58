import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
/**
 * walkContext on real temporary directories: what BuildKit would send for a
 * given .dockerignore (fsutil's filtered walk).
 */
import { expect } from 'chai';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isCanceled } from '@tsbuild/core';
import { createMatcher, readDockerignore, selectIgnoreFile, walkContext, type PatternMatcher } from '../src/dockerignore/index.js';
import { tempDir } from '../../test/support/fixtures.js';

function makeTree(root: string, files: string[]): void {
  for (const f of files) {
    const abs = join(root, f);
    if (f.endsWith('/')) mkdirSync(abs, { recursive: true });
    else {
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, f);
    }
  }
}

async function walk(root: string, matcher?: PatternMatcher, signal?: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  for await (const e of walkContext(root, matcher, { signal })) out.push(e.stat.isDirectory() ? `${e.path}/` : e.path);
  return out;
}

const execFileP = promisify(execFile);

describe('walkContext', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir('tsbuild-walk-');
  });
  afterEach(() => dir.cleanup());

  it('yields everything in WalkDir order (byte-sorted names, directory before its contents) without a matcher', async () => {
    makeTree(dir.path, ['b', 'a.txt', 'a/z', 'a/b/c', 'B', '_']);
    expect(await walk(dir.path)).to.deep.equal(['B', '_', 'a/', 'a/b/', 'a/b/c', 'a/z', 'a.txt', 'b']);
  });

  it('drops excluded files and whole excluded directories, nested ones included', async () => {
    makeTree(dir.path, ['keep', 'node_modules/x/y', 'src/main.ts', 'src/gen/out.js', 'src/gen/sub/deep.js', 'x.log', 'src/y.log']);
    const m = createMatcher(readDockerignore('node_modules\nsrc/gen\n**/*.log\n'));
    expect(await walk(dir.path, m)).to.deep.equal(['keep', 'src/', 'src/main.ts']);
  });

  it('re-includes a `!` path inside an excluded directory and yields its parents first', async () => {
    makeTree(dir.path, ['docs/a.md', 'docs/README.md', 'docs/img/logo.png', 'other']);
    const m = createMatcher(['docs', '!docs/README.md', '!docs/img']);
    expect(await walk(dir.path, m)).to.deep.equal(['docs/', 'docs/README.md', 'docs/img/', 'docs/img/logo.png', 'other']);
  });

  it('walks into excluded directories when a `!` pattern has a wildcard (it may match anywhere)', async () => {
    makeTree(dir.path, ['vendor/a/keep.go', 'vendor/a/drop.txt', 'vendor/b/drop.txt']);
    const m = createMatcher(['vendor', '!**/*.go']);
    expect(await walk(dir.path, m)).to.deep.equal(['vendor/', 'vendor/a/', 'vendor/a/keep.go']);
  });

  it('excludes everything then re-includes only what is listed (`*` then `!`)', async () => {
    makeTree(dir.path, ['Dockerfile', '.dockerignore', 'foo', 'bar', 'baz', 'bay']);
    const m = createMatcher(readDockerignore('\nba*\nDockerfile\n!bay\n.dockerignore\n'));
    expect(await walk(dir.path, m)).to.deep.equal(['bay', 'foo']);
  });

  it('never follows symlinks: a link to a directory is one entry, its target is not walked', async () => {
    makeTree(dir.path, ['real/file', 'outside/secret']);
    symlinkSync('real', join(dir.path, 'link'));
    symlinkSync('/etc', join(dir.path, 'etc-link'));
    const entries: Array<{ path: string; link: boolean }> = [];
    for await (const e of walkContext(dir.path, undefined)) entries.push({ path: e.path, link: e.stat.isSymbolicLink() });
    expect(entries.map((e) => e.path)).to.deep.equal(['etc-link', 'link', 'outside', 'outside/secret', 'real', 'real/file']);
    expect(entries.filter((e) => e.link).map((e) => e.path)).to.deep.equal(['etc-link', 'link']);
  });

  it('matches a symlink by its own name, not its target', async () => {
    makeTree(dir.path, ['real/file']);
    symlinkSync('real', join(dir.path, 'link'));
    expect(await walk(dir.path, createMatcher(['real']))).to.deep.equal(['link']);
  });

  it('skips an unreadable directory that is excluded anyway', async () => {
    // root reads a mode-000 directory, so the walk runs in a child process as `nobody`
    makeTree(dir.path, ['locked/x', 'ok']);
    chmodSync(dir.path, 0o755);
    chmodSync(join(dir.path, 'locked'), 0o000);
    const script = `
      import { createMatcher, walkContext } from '@tsbuild/dockerfile';
      const out = [];
      for await (const e of walkContext(${JSON.stringify(dir.path)}, createMatcher(['locked', '!locked/x']))) out.push(e.path);
      console.log(JSON.stringify(out));`;
    try {
      const { stdout } = await execFileP(process.execPath, ['--import', 'tsx', '--conditions=tsbuild-source', '--input-type=module', '-e', script], {
        uid: 65534,
        gid: 65534,
        cwd: process.cwd(),
        env: { ...process.env, HOME: '/tmp' },
      });
      expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).to.deep.equal(['ok']);
    } finally {
      chmodSync(join(dir.path, 'locked'), 0o755);
    }
  });

  it('stops with a Canceled error when the signal aborts', async () => {
    makeTree(dir.path, ['a', 'b', 'c']);
    const ac = new AbortController();
    const seen: string[] = [];
    let error: unknown;
    try {
      for await (const e of walkContext(dir.path, undefined, { signal: ac.signal })) {
        seen.push(e.path);
        ac.abort();
      }
    } catch (err) {
      error = err;
    }
    expect(seen).to.deep.equal(['a']);
    expect(isCanceled(error)).to.equal(true);
  });

  it('propagates a bad pattern found at match time', async () => {
    makeTree(dir.path, ['x']);
    let error: unknown;
    try {
      await walk(dir.path, createMatcher(['[z-a]']));
    } catch (err) {
      error = err;
    }
    expect((error as Error).message).to.contain('syntax error in pattern');
  });
});

describe('selectIgnoreFile', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir('tsbuild-ignore-');
  });
  afterEach(() => dir.cleanup());

  it('prefers <Dockerfile>.dockerignore beside the Dockerfile over <context>/.dockerignore', async () => {
    makeTree(dir.path, ['.dockerignore', 'Dockerfile', 'Dockerfile.dockerignore', 'Dockerfile2']);
    expect(await selectIgnoreFile(dir.path, 'Dockerfile')).to.deep.equal({ path: join(dir.path, 'Dockerfile.dockerignore'), source: 'dockerfile' });
    expect(await selectIgnoreFile(dir.path, 'Dockerfile2')).to.deep.equal({ path: join(dir.path, '.dockerignore'), source: 'context' });
  });

  it('looks for the Dockerfile-specific file in the Dockerfile directory, also outside the context', async () => {
    makeTree(dir.path, ['ctx/.dockerignore', 'build/app.Dockerfile', 'build/app.Dockerfile.dockerignore']);
    const got = await selectIgnoreFile(join(dir.path, 'ctx'), join(dir.path, 'build/app.Dockerfile'));
    expect(got).to.deep.equal({ path: join(dir.path, 'build/app.Dockerfile.dockerignore'), source: 'dockerfile' });
  });

  it('returns undefined when there is no ignore file, and ignores a directory of that name', async () => {
    makeTree(dir.path, ['Dockerfile', '.dockerignore/']);
    expect(await selectIgnoreFile(dir.path, 'Dockerfile')).to.equal(undefined);
  });
});
