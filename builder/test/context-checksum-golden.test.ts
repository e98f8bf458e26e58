/**
 * Golden values of checksumContext: the digests of a fixed tree must never
 * change by accident (they are part of every COPY's cache key, so a change
 * silently invalidates every user's cache — or, worse, a faster walk that
 * hashes something else would go unnoticed). A deliberate change bumps
 * CHECKSUM_VERSION in checksum.ts and updates these values.
 */
import { expect } from 'chai';
import { chmodSync, chownSync, lchownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checksumContext, openChecksumCache } from '@tsbuild/builder';
import { createMatcher } from '@tsbuild/dockerfile';
import { tempDir } from '../../test/support/fixtures.js';

/** Modes and owners set explicitly: nothing depends on the umask or on who runs the test. */
function makeTree(dir: string): void {
  const d = (rel: string, mode = 0o755) => {
    mkdirSync(join(dir, rel));
    chmodSync(join(dir, rel), mode);
  };
  const f = (rel: string, data: string | Buffer, mode = 0o644) => {
    writeFileSync(join(dir, rel), data);
    chmodSync(join(dir, rel), mode);
  };
  d('app');
  d('app/lib', 0o750);
  d('app/empty', 0o700);
  f('app/main.js', 'console.log(1)\n');
  f('app/lib/util.js', 'export {}\n');
  f('app/lib/empty.txt', '');
  f('app/run.sh', '#!/bin/sh\necho hi\n', 0o755);
  f('app/setuid', 'x', 0o4755);
  // Larger than the small-file limit (64 KiB): the streamed path.
  f('app/big.bin', Buffer.alloc(200 * 1024 + 3, 'abcdefgh'));
  f('app/exactly64k', Buffer.alloc(64 * 1024, 'z'));
  symlinkSync('main.js', join(dir, 'app/link-in'));
  symlinkSync('/nowhere/at/all', join(dir, 'app/dangling'));
  symlinkSync('app/main.js', join(dir, 'top-link'));
  f('README.md', '# readme\n', 0o600);
  f('ignored.log', 'log\n');
  f('app/lib/skip.tmp', 'tmp\n');
  chownSync(join(dir, 'app/lib/util.js'), 1000, 2000);
  lchownSync(join(dir, 'app/link-in'), 33, 44);
  chownSync(join(dir, 'README.md'), 0, 0);
}

const GOLDEN = {
  exactApp: 'sha256:509321fc38f37bffdcae184eba190a26455bba7b650751cf0edc2aa38d25a451',
  contentApp: 'sha256:326353dd2c04cd626223a3b02d652557ab45d50bcb56369c1488bab2736e1da8',
  exactAll: 'sha256:9e0fd91620ede33d00b8c10e83ebe2d9a239e0181329f0a270b32232ee3e76b6',
  topLink: 'sha256:43630760e4326c8288bbefbc1b452c7831d5ce8c899fbb3de9a3aca6c5e6ecd9',
  glob: 'sha256:98518e56d152167dedb133f6e431d3731b1aaa064174cdc5d62bbba5256891ed',
  files: {
    'app': 'sha256:2ffd41dd38dba7f1187f11ebd19af66e8bcde30bfe867414ff636fcad1291f4c',
    'app/big.bin': 'sha256:bfb0a776b33275f62ffe520ea966210ff2953644108909cb507d722eebeadd22',
    'app/dangling': 'sha256:f7b91e6620762a1fd0b78b92e4c554f147045fa27c0066710ece4a460a1fb63d',
    'app/empty': 'sha256:fe8e264a7aa8c7e204f9b516062e052414e94eb6721cb339f9d7c79286e30289',
    'app/exactly64k': 'sha256:d64b27047e9b138730d0375ffb5aa27d06783433c465a86eca8402080477ceda',
    'app/lib': 'sha256:8de74bf72d591989a55e8541aeb01ccc987a6ba51b3ac3ffa018eba08ec6430d',
    'app/lib/empty.txt': 'sha256:fa2370c54b8642a62393f993de1aa78e7f2a879dc353133ba9bab1cbce2be984',
    'app/lib/skip.tmp': 'sha256:8e6ae3df28085daefe5e9debab7decf18c4d60e3b5cca486ce623ee09b39e842',
    'app/lib/util.js': 'sha256:12077c55d30a5ab350e963c95d9c8d8198317f8448323db1a3d4b8a9e1728834',
    'app/link-in': 'sha256:07f21388efc0e0ace4a32b88b5fd066bf57a5181cb93769bc3a5171364f818c3',
    'app/main.js': 'sha256:ac82c63ebe4aa113642533f7339f71d13198b2b7b07a1b8cc78c772a1093684e',
    'app/run.sh': 'sha256:ee73df3618039ad3b96c277e567848c7d3c55984062fc5badcfa02214bb663d6',
    'app/setuid': 'sha256:be50b7137dc4381a221535d0071e60e588ca1fe99570b4dfed8eed06e60671e5',
  } as Record<string, string>,
};

describe('checksumContext: golden values', () => {
  let tmp: ReturnType<typeof tempDir>;
  let ctx: string;
  before(() => {
    tmp = tempDir();
    ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx);
    chmodSync(ctx, 0o755);
    makeTree(ctx);
  });
  after(() => tmp.cleanup());

  const sum = (patterns: string[], extra: Partial<Parameters<typeof checksumContext>[0]> = {}) =>
    checksumContext({ contextDir: ctx, patterns, ...extra });

  it("keeps the 'exact' digest and the per-file checksums of a fixed tree", async () => {
    const r = await sum(['app']);
    expect(r.digest).to.equal(GOLDEN.exactApp);
    expect(r.files).to.deep.equal(GOLDEN.files);
  });

  it("keeps the 'content' digest", async () => {
    expect((await sum(['app'], { mode: 'content' })).digest).to.equal(GOLDEN.contentApp);
  });

  it('keeps the digest of the whole context with .dockerignore and --exclude', async () => {
    const r = await sum(['.'], { ignore: createMatcher(['*.log']), exclude: ['**/*.tmp'] });
    expect(r.digest).to.equal(GOLDEN.exactAll);
  });

  it('keeps the digest of a top-level symlink source and of a glob', async () => {
    expect((await sum(['top-link'])).digest).to.equal(GOLDEN.topLink);
    expect((await sum(['app/*.js', 'app/l*'])).digest).to.equal(GOLDEN.glob);
  });

  it('gives the same values through a persistent cache, cold and warm', async () => {
    const dir = join(tmp.path, 'cache');
    for (let round = 0; round < 2; round++) {
      const cache = await openChecksumCache({ dir, contextDir: ctx });
      const r = await sum(['app'], { cache });
      expect(r.digest).to.equal(GOLDEN.exactApp);
      expect(r.files).to.deep.equal(GOLDEN.files);
      expect(cache.stats.hashed).to.equal(round === 0 ? 8 : 0);
      await cache.save();
    }
  });
});
