import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../test/support/fixtures.js';
import { tsbuild } from './support.js';

/** Issue 15 point 8: a bad store root, a parse error in plain mode, and carets where the problem is. */
describe('error lines: store root, parse errors in plain mode, caret columns', () => {
  let tmp: ReturnType<typeof tempDir>;
  before(() => {
    tmp = tempDir('tsbuild-errlines-');
  });
  after(() => tmp.cleanup());

  it('a file as --root is one clear line for every command that uses the store, not a raw EEXIST', async () => {
    const file = join(tmp.path, 'a-file');
    writeFileSync(file, 'x');
    for (const argv of [['images'], ['ps'], ['run', 'x'], ['inspect', 'x'], ['du'], ['prune'], ['fsck']]) {
      const r = await tsbuild(file, ...argv);
      expect(r.code, argv[0]).to.equal(1);
      expect(r.stderr, argv[0]).to.equal(`error: store root ${file} (--root or $TSBUILD_ROOT): not a directory\n`);
    }
    const under = await tsbuild(join(file, 'sub'), 'images');
    expect(under.stderr).to.equal(`error: store root ${join(file, 'sub')} (--root or $TSBUILD_ROOT): ${file} is not a directory\n`);
  });

  const build = async (dockerfile: string) => {
    const ctx = join(tmp.path, `ctx-${Math.random().toString(36).slice(2)}`);
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), dockerfile);
    return { ctx, r: await tsbuild(join(tmp.path, 'store'), 'build', '--progress', 'plain', ctx) };
  };

  it('a parse error in plain mode prints the error and its snippet only: no FAILED footer for no steps', async () => {
    const { r } = await build('FROM busybox\nRUNN x\n');
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(`error: Dockerfile:2:1: unknown instruction: RUNN (did you mean RUN?)\n    2 | RUNN x\n      | ^\n`);
  });

  it('an indented ENV A points at ENV; an unterminated heredoc points at its <<EOF, its body following', async () => {
    const env = await build('FROM busybox\n   ENV A\n');
    expect(env.r.stderr).to.equal(`error: Dockerfile:2:4: ENV must have two arguments\n    2 |    ENV A\n      |    ^\n`);
    const heredoc = await build('FROM busybox\nRUN cat <<EOF\necho hi\n');
    expect(heredoc.r.stderr).to.equal(`error: Dockerfile:2:9: unterminated heredoc\n    2 | RUN cat <<EOF\n      |         ^\n    3 | echo hi\n`);
  });
});
