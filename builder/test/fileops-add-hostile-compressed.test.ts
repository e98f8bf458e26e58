/**
 * Issue 13, point 3: a compressed archive whose *second* entry is `../escape-gz`.
 * The refusal used to close gunzip while it still held the archive's rest, and
 * the extraction's stream.pipeline (into node-tar's Parser, which never emits
 * 'close') never settled: `tsbuild build` ended silently with Node's exit 13.
 * The refusal must reject, promptly, with the same error the plain tar gives.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { compress as zstdCompress } from 'zstd-napi';
import { copy } from '@tsbuild/builder';
import { tempDir } from '../../test/support/fixtures.js';

describe('ADD of a compressed archive with a ../ entry after a good one (issue 13)', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.cleanup());

  const cases: Array<[string, (b: Buffer) => Buffer]> = [
    ['plain tar', (b) => b],
    ['gzip', (b) => gzipSync(b)],
    ['zstd', (b) => zstdCompress(b)],
  ];
  for (const [kind, encode] of cases) {
    it(`${kind}: rejects with FILEOPS_PATH_ESCAPES and writes nothing outside`, async () => {
      const src = join(tmp.path, 'src');
      const dst = join(tmp.path, 'dst');
      mkdirSync(src);
      mkdirSync(join(dst, 'root'), { recursive: true });
      // A first entry big enough that the decompressor still holds data when the second is refused.
      const tar = rawTar([{ path: 'ok.bin', body: Buffer.alloc(256 * 1024, 7) }, { path: '../escape-gz', body: Buffer.from('pwned\n') }]);
      writeFileSync(join(src, 'bad'), encode(tar));
      const outcome = copy({ srcRoot: src, srcPatterns: ['bad'], destRoot: join(dst, 'root'), dest: '/d/', mode: 'add' }).then(
        () => 'resolved',
        (e: unknown) => e,
      );
      const err = await Promise.race([outcome, new Promise((ok) => setTimeout(ok, 15_000, 'still pending after 15 s'))]);
      expect(err).to.be.instanceOf(Error);
      expect((err as { code: string }).code).to.equal('FILEOPS_PATH_ESCAPES');
      expect((err as Error).message).to.equal('archive entry "../escape-gz" would be written outside the destination');
      expect(existsSync(join(dst, 'root', 'escape-gz'))).to.equal(false);
      expect(existsSync(join(dst, 'escape-gz'))).to.equal(false);
    });
  }
});

function rawTar(entries: Array<{ path: string; body: Buffer }>): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const block = Buffer.alloc(512);
    new Header({ path: e.path, mode: 0o644, size: e.body.length, type: 'File', mtime: new Date(0), uid: 0, gid: 0 }).encode(block, 0);
    blocks.push(block, e.body, Buffer.alloc((512 - (e.body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
