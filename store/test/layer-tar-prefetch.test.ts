import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { packDirectory, readTar } from '@tsbuild/store';
import { SMALL_FILE } from '../src/layer/tar-emit.js';
import { tempDir } from '../../test/support/fixtures.js';

describe('layer packing: small files read whole, large ones streamed', () => {
  it('packs many small and large files, with their xattrs, exactly as on disk', async () => {
    const tmp = tempDir();
    try {
      const root = join(tmp.path, 'tree');
      const want = new Map<string, Buffer>();
      for (let d = 0; d < 3; d++) {
        mkdirSync(join(root, `d${d}`), { recursive: true });
        for (let f = 0; f < 60; f++) {
          const size = [0, 1, 511, 512, SMALL_FILE, SMALL_FILE + 1, 3 * 1024 * 1024 + 5][f % 7]!;
          const body = Buffer.alloc(size, `${d}.${f};`);
          writeFileSync(join(root, `d${d}/f${f}`), body);
          want.set(`d${d}/f${f}`, body);
        }
      }
      setAttributeSync(join(root, 'd1/f3'), 'user.note', 'kept');
      const seen = new Map<string, Buffer>();
      let xattr: Buffer | undefined;
      for await (const e of readTar(packDirectory(root))) {
        const chunks: Buffer[] = [];
        for await (const c of e.body) chunks.push(c);
        if (e.type === 'File') seen.set(e.path, Buffer.concat(chunks));
        if (e.path === 'd1/f3') xattr = e.xattrs.get('user.note');
      }
      expect([...seen.keys()]).to.deep.equal([...want.keys()].sort());
      for (const [path, body] of want) expect(seen.get(path)!.equals(body), path).to.equal(true);
      expect(xattr?.toString()).to.equal('kept');
    } finally {
      tmp.cleanup();
    }
  });
});
