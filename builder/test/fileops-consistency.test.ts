import { expect } from 'chai';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checksumContext, copy } from '@tsbuild/builder';
import { createMatcher } from '@tsbuild/dockerfile';
import { tempDir } from '../../test/support/fixtures.js';

/** Every path under `dir`, relative, sorted (symlinks not followed). */
function list(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    out.push(relative(base, p));
    if (lstatSync(p).isDirectory()) out.push(...list(p, base));
  }
  return out.sort();
}

describe('checksum and copy agree on the selection', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.cleanup());

  it('the checksum lists exactly the entries the copy writes (globs, .dockerignore, --exclude)', async () => {
    const ctx = join(tmp.path, 'ctx');
    mkdirSync(join(ctx, 'src/gen'), { recursive: true });
    mkdirSync(join(ctx, 'node_modules/x'), { recursive: true });
    for (const f of ['src/a.ts', 'src/b.ts', 'src/a.test.ts', 'src/gen/c.ts', 'node_modules/x/i.js', 'README.md', 'package.json']) {
      writeFileSync(join(ctx, f), f);
    }
    symlinkSync('a.ts', join(ctx, 'src/alias.ts'));
    const ignore = createMatcher(['node_modules', '*.md']);
    const patterns = ['src', 'package.json', '*.md'];
    const exclude = ['**/*.test.ts'];
    // '*.md' matches only the ignored README: a wildcard may match nothing (BuildKit's
    // AllowEmptyWildcard), so it selects nothing and adds nothing to the checksum.
    const withEmpty = await checksumContext({ contextDir: ctx, patterns, exclude, ignore });

    const sel = ['src', 'package.json'];
    const sum = await checksumContext({ contextDir: ctx, patterns: sel, exclude, ignore });
    expect(withEmpty.files).to.deep.equal(sum.files);
    const dest = join(tmp.path, 'dest');
    mkdirSync(dest);
    await copy({ srcRoot: ctx, srcPatterns: sel, destRoot: dest, dest: '/', exclude, ignore, parents: true });
    expect(list(dest)).to.deep.equal(Object.keys(sum.files).sort());
    expect(Object.keys(sum.files)).to.not.include('src/a.test.ts');

    // COPY --parents: include patterns (`**`) below the context root, or below a `/./` pivot.
    for (const [patterns, under] of [[['src/**/*.ts', 'package.json'], ''], [['./src/./gen'], 'src/']] as const) {
      const parentsSum = await checksumContext({ contextDir: ctx, patterns, exclude, ignore, parents: true });
      const parentsDest = join(tmp.path, `parents-dest${under ? '-pivot' : ''}`);
      mkdirSync(parentsDest);
      await copy({ srcRoot: ctx, srcPatterns: patterns, destRoot: parentsDest, dest: '/', exclude, ignore, parents: true });
      const written = list(parentsDest).map((p) => `${under}${p}`);
      // The checksum also covers each source root itself (`.`, or `src` for the pivot): the copy's destination.
      const roots = under ? ['src'] : ['.'];
      expect(written.sort(), patterns.join(' ')).to.deep.equal(Object.keys(parentsSum.files).filter((p) => !roots.includes(p)).sort());
    }
  });

  it('copy honours an abort signal', async () => {
    const ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'f'), 'x');
    const err = await copy({ srcRoot: ctx, srcPatterns: ['f'], destRoot: tmp.path, dest: '/out', signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).to.equal('CANCELED');
  });
});
