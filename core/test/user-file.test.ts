import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isInvalidArgument, readUserFile, readUserFileSync, UserPathError } from '@tsbuild/core';

/** Issue 13 point 5: a FIFO (or device, or directory) named by the user is refused, never waited on. */
describe('readUserFile: user-named paths opened without blocking', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-user-file-'));
    writeFileSync(join(dir, 'plain'), 'hello\n');
    execFileSync('mkfifo', [join(dir, 'fifo')]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a regular file', async () => {
    expect((await readUserFile(join(dir, 'plain'), 'the file')).toString()).to.equal('hello\n');
    expect(readUserFileSync(join(dir, 'plain'), 'the file').toString()).to.equal('hello\n');
  });

  for (const [name, path, kind] of [['a FIFO', 'fifo', 'a FIFO'], ['a character device', '/dev/null', 'a character device'], ['a directory', '.', 'a directory']] as const) {
    it(`refuses ${name} with a typed error naming the path`, async () => {
      const full = path.startsWith('/') ? path : join(dir, path);
      const err = await Promise.race([readUserFile(full, 'the Dockerfile').then(() => 'read', (e: unknown) => e), new Promise((ok) => setTimeout(ok, 5000, 'blocked'))]);
      expect(err).to.be.instanceOf(UserPathError);
      expect(isInvalidArgument(err)).to.equal(true);
      expect((err as UserPathError).code).to.equal('USER_PATH_NOT_REGULAR');
      expect((err as Error).message).to.equal(`the Dockerfile: ${full} is ${kind}, not a regular file`);
      expect(() => readUserFileSync(full, 'the Dockerfile')).to.throw(UserPathError);
    });
  }
});
