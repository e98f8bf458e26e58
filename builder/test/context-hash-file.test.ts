import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashFile } from '@tsbuild/builder';
import { tempDir } from '../../test/support/fixtures.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('hashFile', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.cleanup());

  it('hashes the whole file as it is now, whatever size hint it is given', async () => {
    for (const size of [0, 1, 4096, 64 * 1024, 64 * 1024 + 1, 3 * 1024 * 1024]) {
      const body = Buffer.alloc(size, `${size};`);
      const file = join(tmp.path, `f${size}`);
      writeFileSync(file, body);
      for (const hint of [undefined, size, Math.max(0, size - 1), size + 10, 0]) {
        expect(await hashFile(file, { size: hint }), `${size} hinted ${hint}`).to.equal(sha(body));
      }
    }
  });

  it('does not read through a symlink given as a small file', async () => {
    writeFileSync(join(tmp.path, 'target'), 'secret');
    symlinkSync(join(tmp.path, 'target'), join(tmp.path, 'link'));
    let err: unknown;
    await hashFile(join(tmp.path, 'link'), { size: 6 }).catch((e: unknown) => (err = e));
    expect((err as NodeJS.ErrnoException | undefined)?.code).to.equal('ELOOP');
  });
  it('fails, and does not hang, on a FIFO given as a small file (a file swapped since its lstat)', async () => {
    const fifo = join(tmp.path, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const err = await hashFile(fifo, { size: 4 }).catch((e: unknown) => e);
    expect(err).to.have.property('code', 'ESPIPE');
  });
});
