import { expect } from 'chai';
import { chmodSync, chownSync, cpSync, mkdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isNotFound, isInvalidArgument } from '@tsbuild/core';
import { checksumContext, contentDigestOf, createExcludeMatcher, ContextPathNotFoundError, type PathMatcher } from '@tsbuild/builder';
import { createMatcher } from '@tsbuild/dockerfile';
import { tempDir } from '../../test/support/fixtures.js';

/** A small context: app/{main.js,lib/util.js}, README.md, bin/run (0755), link -> app/main.js. */
function makeContext(dir: string): void {
  mkdirSync(join(dir, 'app/lib'), { recursive: true });
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'app/main.js'), 'console.log(1)\n');
  writeFileSync(join(dir, 'app/lib/util.js'), 'export {}\n');
  writeFileSync(join(dir, 'README.md'), '# readme\n');
  writeFileSync(join(dir, 'bin/run'), '#!/bin/sh\n');
  chmodSync(join(dir, 'bin/run'), 0o755);
  symlinkSync('app/main.js', join(dir, 'link'));
}

describe('checksumContext', () => {
  let tmp: ReturnType<typeof tempDir>;
  let ctx: string;
  beforeEach(() => {
    tmp = tempDir();
    ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx);
    makeContext(ctx);
  });
  afterEach(() => tmp.cleanup());

  const sum = (patterns: string[], extra: Partial<Parameters<typeof checksumContext>[0]> = {}) =>
    checksumContext({ contextDir: ctx, patterns, ...extra });

  it('is stable and lists one checksum per selected entry', async () => {
    const a = await sum(['app']);
    const b = await sum(['app']);
    expect(a.digest).to.equal(b.digest);
    expect(a.digest).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(Object.keys(a.files).sort()).to.deep.equal(['app', 'app/lib', 'app/lib/util.js', 'app/main.js']);
  });

  it('ignores mtimes: touching a selected file keeps the digest', async () => {
    const before = await sum(['app']);
    utimesSync(join(ctx, 'app/main.js'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect((await sum(['app'])).digest).to.equal(before.digest);
  });

  it('does not depend on files no pattern selects', async () => {
    const before = await sum(['app']);
    writeFileSync(join(ctx, 'README.md'), 'changed\n');
    writeFileSync(join(ctx, 'new-file'), 'x');
    expect((await sum(['app'])).digest).to.equal(before.digest);
  });

  it('changes when a selected file changes, and says which', async () => {
    const before = await sum(['app']);
    writeFileSync(join(ctx, 'app/lib/util.js'), 'export const x = 1\n');
    const after = await sum(['app']);
    expect(after.digest).to.not.equal(before.digest);
    expect(after.files['app/lib/util.js']).to.not.equal(before.files['app/lib/util.js']);
    expect(after.files['app/main.js']).to.equal(before.files['app/main.js']);
  });

  it('changes when a file is added to or removed from a selected directory', async () => {
    const before = await sum(['app']);
    writeFileSync(join(ctx, 'app/new.js'), '');
    expect((await sum(['app'])).digest).to.not.equal(before.digest);
  });

  it('gives the same digest for the same tree at another path', async () => {
    const before = await sum(['app', 'bin/run', 'link']);
    const moved = join(tmp.path, 'elsewhere');
    renameSync(ctx, moved);
    const after = await checksumContext({ contextDir: moved, patterns: ['app', 'bin/run', 'link'] });
    expect(after.digest).to.equal(before.digest);
    const copy = join(tmp.path, 'copy');
    cpSync(moved, copy, { recursive: true, verbatimSymlinks: true });
    chmodSync(copy, statSync(moved).mode & 0o7777);
    expect((await checksumContext({ contextDir: copy, patterns: ['app', 'bin/run', 'link'] })).digest).to.equal(before.digest);
  });

  it("covers permission bits in 'exact' mode but only the x bit in 'content' mode", async () => {
    const exact = await sum(['app/main.js']);
    const content = await sum(['app/main.js'], { mode: 'content' });
    chmodSync(join(ctx, 'app/main.js'), 0o600);
    expect((await sum(['app/main.js'])).digest).to.not.equal(exact.digest);
    expect((await sum(['app/main.js'], { mode: 'content' })).digest).to.equal(content.digest);
    chmodSync(join(ctx, 'app/main.js'), 0o700);
    expect((await sum(['app/main.js'], { mode: 'content' })).digest).to.not.equal(content.digest);
  });

  it("covers ownership in 'exact' mode only", async () => {
    const exact = await sum(['README.md']);
    const content = await sum(['README.md'], { mode: 'content' });
    chownSync(join(ctx, 'README.md'), 1234, 5678);
    expect((await sum(['README.md'])).digest).to.not.equal(exact.digest);
    expect((await sum(['README.md'], { mode: 'content' })).digest).to.equal(content.digest);
  });

  it('checksums a top-level source symlink as its target (what COPY copies), under the link\'s name', async () => {
    const before = await sum(['link']);
    expect(Object.keys(before.files)).to.deep.equal(['link']);
    expect(before.files.link, 'the same entry as the target, named link').to.equal((await sum(['app/main.js'])).files['app/main.js']);
    writeFileSync(join(ctx, 'app/main.js'), 'changed target content\n');
    expect((await sum(['link'])).digest, 'target content matters').to.not.equal(before.digest);
  });

  it('checksums a symlink inside a selected directory as its target text, never following it', async () => {
    symlinkSync('../main.js', join(ctx, 'app/lib/up'));
    const before = await sum(['app/lib']);
    writeFileSync(join(ctx, 'app/main.js'), 'changed target content\n');
    expect((await sum(['app/lib'])).digest, 'target content must not matter').to.equal(before.digest);
    rmSync(join(ctx, 'app/lib/up'));
    symlinkSync('util.js', join(ctx, 'app/lib/up'));
    expect((await sum(['app/lib'])).digest).to.not.equal(before.digest);
  });

  it('a top-level link to a host file resolves inside the context: not found, never the host file', async () => {
    symlinkSync('/etc/passwd', join(ctx, 'passwd-link'));
    symlinkSync('../../etc/passwd', join(ctx, 'up-link'));
    for (const p of ['passwd-link', 'up-link']) {
      expect(await sum([p]).catch((e: unknown) => e), p).to.be.instanceOf(ContextPathNotFoundError);
    }
    mkdirSync(join(ctx, 'etc'));
    writeFileSync(join(ctx, 'etc/passwd'), 'in-context\n');
    expect((await sum(['passwd-link'])).files['passwd-link']).to.equal((await sum(['etc/passwd'])).files['etc/passwd']);
    symlinkSync('/etc/passwd', join(ctx, 'app/lib/host-link'));
    expect(Object.keys((await sum(['app/lib'])).files)).to.include('app/lib/host-link');
  });

  it('a glob follows the links it matches, but an ignored dangling link is no source at all', async () => {
    symlinkSync('app/main.js', join(ctx, 'main-link.js'));
    symlinkSync('missing.js', join(ctx, 'dangling.js'));
    expect(await sum(['*.js']).catch((e: unknown) => e)).to.be.instanceOf(ContextPathNotFoundError);
    const r = await sum(['*.js'], { ignore: createMatcher(['dangling.js']) });
    expect(Object.keys(r.files)).to.deep.equal(['main-link.js']);
    expect(r.files['main-link.js']).to.equal((await sum(['app/main.js'])).files['app/main.js']);
  });

  it('expands Go wildcards per path component', async () => {
    writeFileSync(join(ctx, 'app/other.ts'), '');
    const r = await sum(['app/*.js', 'b?n/r[a-z]n']);
    expect(Object.keys(r.files).sort()).to.deep.equal(['app/main.js', 'bin/run']);
    const escaped = await sum(['app/m\\ain.js']);
    expect(Object.keys(escaped.files)).to.deep.equal(['app/main.js']);
  });

  it('a wildcard never matches through a slash', async () => {
    expect(Object.keys((await sum(['*.js'])).files)).to.deep.equal([]);
    expect(Object.keys((await sum(['app/*.js'])).files)).to.deep.equal(['app/main.js']);
  });

  it('a wildcard may match nothing (BuildKit AllowEmptyWildcard); a plain source may not', async () => {
    const alone = await sum(['app/main.js']);
    const withEmpty = await sum(['nothing-*', 'app/main.js', 'nodir*/x', 'app/none-[0-9]']);
    expect(withEmpty.files).to.deep.equal(alone.files);
    // Dockerignored matches do not exist: a wildcard matching only those matches nothing.
    expect(Object.keys((await sum(['READ*'], { ignore: createMatcher(['README.md']) })).files)).to.deep.equal([]);
    for (const plain of ['nothing', 'app/none.js', 'app/\\*.js']) {
      const err = await sum([plain, 'app/main.js']).catch((e: unknown) => e);
      expect(err, plain).to.be.instanceOf(ContextPathNotFoundError);
    }
  });

  it('.dockerignore entries do not exist for the checksum', async () => {
    const ignore: PathMatcher = { matches: (p) => p === 'app/lib' || p.startsWith('app/lib/'), hasExceptions: false };
    const before = await sum(['app'], { ignore });
    expect(Object.keys(before.files)).to.not.include('app/lib/util.js');
    writeFileSync(join(ctx, 'app/lib/util.js'), 'ignored edit');
    expect((await sum(['app'], { ignore })).digest).to.equal(before.digest);
    const err = await sum(['app/lib/util.js'], { ignore }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ContextPathNotFoundError);
  });

  it('--exclude removes entries, relative to the root or to the source', async () => {
    const all = await sum(['app']);
    const ex = await sum(['app'], { exclude: ['lib'] });
    expect(Object.keys(ex.files).sort()).to.deep.equal(['app', 'app/main.js']);
    expect(ex.digest).to.not.equal(all.digest);
    const ex2 = await sum(['app'], { exclude: ['**/util.js'] });
    expect(Object.keys(ex2.files).sort()).to.deep.equal(['app', 'app/lib', 'app/main.js']);
  });

  it('a pattern that matches nothing is CONTEXT_PATH_NOT_FOUND with BuildKit wording', async () => {
    const err = await sum(['app', 'missing.txt']).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ContextPathNotFoundError);
    expect(isNotFound(err)).to.equal(true);
    expect((err as ContextPathNotFoundError).code).to.equal('CONTEXT_PATH_NOT_FOUND');
    expect((err as Error).message).to.equal('failed to compute cache key: "/missing.txt": not found');
  });

  it('refuses a pattern that leaves the context', async () => {
    for (const p of ['../outside', 'app/../../x', '..']) {
      const err = await sum([p]).catch((e: unknown) => e);
      expect(isInvalidArgument(err), p).to.equal(true);
      expect((err as { code: string }).code).to.equal('CONTEXT_PATH_ESCAPES');
    }
  });

  it('does not traverse a symlinked directory in a pattern', async () => {
    symlinkSync('/etc', join(ctx, 'hostetc'));
    const err = await sum(['hostetc/passwd']).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ContextPathNotFoundError);
  });

  it('hands the cache key the digest of its files map, the one the key would compute from a copy', async () => {
    for (const name of ['10', '9', '1', '-', '.hidden', 'a.b', 'a-b', 'Z']) writeFileSync(join(ctx, 'app', name), name);
    for (const patterns of [['app'], ['.'], ['app', 'README.md'], ['app/1*', 'app/*.js']]) {
      const { files } = await sum(patterns);
      expect(contentDigestOf(files), patterns.join(' ')).to.equal(contentDigestOf({ ...files }));
    }
  });

  it('honours an abort signal', async () => {
    const err = await sum(['app'], { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).to.equal('CANCELED');
  });
});

describe('createExcludeMatcher', () => {
  it('has dockerignore semantics: parents, **, exceptions, last match wins', () => {
    const m = createExcludeMatcher(['*.log', 'build', '**/tmp', '!keep.log']);
    expect(m.matches('a.log')).to.equal(true);
    expect(m.matches('keep.log')).to.equal(false);
    expect(m.matches('dir/a.log')).to.equal(false);
    expect(m.matches('build/x/y')).to.equal(true);
    expect(m.matches('a/b/tmp/z')).to.equal(true);
    expect(m.matches('src/main.c')).to.equal(false);
    expect(m.hasExceptions).to.equal(true);
  });
});

describe('checksumContext with the .dockerignore PatternMatcher', () => {
  it('accepts createMatcher() as the ignore rules, including ! exceptions under an ignored directory', async () => {
    const tmp = tempDir();
    try {
      mkdirSync(join(tmp.path, 'docs/keep'), { recursive: true });
      writeFileSync(join(tmp.path, 'docs/a.md'), 'a');
      writeFileSync(join(tmp.path, 'docs/keep/b.md'), 'b');
      const ignore = createMatcher(['docs', '!docs/keep']);
      const r = await checksumContext({ contextDir: tmp.path, patterns: ['.'], ignore });
      expect(Object.keys(r.files).sort()).to.deep.equal(['.', 'docs', 'docs/keep', 'docs/keep/b.md']);
    } finally {
      tmp.cleanup();
    }
  });
});
