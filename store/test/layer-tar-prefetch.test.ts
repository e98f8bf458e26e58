import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { packDirectory, readTar } from '@tsbuild/store';
import { readAhead, SMALL_FILE } from '../src/layer/tar-prefetch.js';
import { tempDir } from '../../test/support/fixtures.js';

async function* numbers(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

describe('layer packing read-ahead', () => {
  it('readAhead keeps source order, whatever order preparations finish in, and runs at most `window` ahead', async () => {
    let running = 0;
    let most = 0;
    const prepare = async (i: number) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, (i * 7) % 5));
      running--;
      return i * 2;
    };
    const out: number[] = [];
    for await (const v of readAhead(numbers(50), prepare, 8)) out.push(v);
    expect(out).to.deep.equal(Array.from({ length: 50 }, (_, i) => i * 2));
    expect(most).to.be.within(2, 8);
  });

  it('readAhead throws a failed preparation when its turn comes, after the items before it', async () => {
    const out: number[] = [];
    const prepare = async (i: number) => {
      if (i === 5) throw new Error('boom 5');
      return i;
    };
    let err: unknown;
    try {
      for await (const v of readAhead(numbers(20), prepare, 4)) out.push(v);
    } catch (e) {
      err = e;
    }
    expect(out).to.deep.equal([0, 1, 2, 3, 4]);
    expect(String(err)).to.contain('boom 5');
  });

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
