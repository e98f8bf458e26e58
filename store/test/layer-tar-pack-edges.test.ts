/**
 * The packers read metadata and small bodies synchronously (tar-walk.ts): they
 * must still give the event loop turns (timers, aborts), report a file that
 * shrinks under them, refuse upper dirs that depend on their lowers, and
 * compare large files of a tree diff to the end.
 */
import { expect } from 'chai';
import { mkdirSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { packDirectory, packOverlayDiff, packTreeDiff, readTar } from '@tsbuild/store';
import { tempDir } from '../../test/support/fixtures.js';
import { collect, streamOf } from './layer-tar-support.js';

function manySmallFiles(root: string, dirs: number, files: number): void {
  for (let d = 0; d < dirs; d++) {
    mkdirSync(join(root, `d${d}`), { recursive: true });
    for (let f = 0; f < files; f++) writeFileSync(join(root, `d${d}/f${f}`), `${d}/${f}\n`);
  }
}

async function paths(tar: Buffer): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readTar(streamOf(tar))) out.push(e.path);
  return out;
}

describe('layer tar packing: event loop, aborts, changing sources', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof tempDir>;
  let many: string;
  before(() => {
    tmp = tempDir('tsbuild-pack-edges-');
    many = join(tmp.path, 'many');
    manySmallFiles(many, 40, 100);
  });
  after(() => tmp.cleanup());

  it('lets timers run while packing thousands of small files', async () => {
    let consumed = 0;
    let atFirstTimer: number | undefined;
    const timer = setTimeout(() => (atFirstTimer = consumed), 0);
    const stream = packDirectory(many);
    for await (const chunk of stream) consumed += (chunk as Buffer).length;
    clearTimeout(timer);
    expect(atFirstTimer, 'the timer fired before the tar was complete').to.be.a('number').below(consumed);
  });

  it('an abort while packing stops the stream', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 1);
    let consumed = 0;
    const err = await (async () => {
      for await (const chunk of packDirectory(many, { signal: controller.signal })) consumed += (chunk as Buffer).length;
    })().catch((e: unknown) => e);
    expect(err).to.have.property('name', 'AbortError');
    const whole = (await collect(packDirectory(many))).length;
    expect(consumed).to.be.below(whole);
  });

  it('a file that shrinks while its body is streamed is LAYER_SOURCE_CHANGED', async () => {
    const dir = join(tmp.path, 'shrinks');
    mkdirSync(dir);
    const big = join(dir, 'big');
    writeFileSync(big, Buffer.alloc(32 * 1024 * 1024, 'x'));
    let first = true;
    const err = await (async () => {
      for await (const _ of packDirectory(dir)) {
        if (first) truncateSync(big, 1000);
        first = false;
      }
    })().catch((e: unknown) => e);
    expect(err).to.have.property('code', 'LAYER_SOURCE_CHANGED');
  });

  it('packTreeDiff compares large files of equal size and mtime to the last byte', async () => {
    const lower = join(tmp.path, 'big-lower');
    const upper = join(tmp.path, 'big-upper');
    for (const root of [lower, upper]) mkdirSync(root);
    const body = Buffer.alloc(300_000, 'y');
    writeFileSync(join(lower, 'same'), body);
    writeFileSync(join(upper, 'same'), body);
    writeFileSync(join(lower, 'last-byte'), body);
    body[body.length - 1] = 0x7a;
    writeFileSync(join(upper, 'last-byte'), body);
    for (const root of [lower, upper]) {
      for (const name of ['same', 'last-byte']) utimesSync(join(root, name), 1000, 1000);
      utimesSync(root, 1000, 1000);
    }
    expect(await paths(await collect(packTreeDiff({ lowerDir: lower, upperDir: upper })))).to.deep.equal(['last-byte']);
  });

  it('refuses an overlay upper dir that depends on its lowers (redirect, metacopy)', async function () {
    for (const name of ['trusted.overlay.redirect', 'trusted.overlay.metacopy', 'user.overlay.redirect', 'user.overlay.metacopy']) {
      const upper = join(tmp.path, `upper-${name}`);
      mkdirSync(join(upper, 'moved'), { recursive: true });
      writeFileSync(join(upper, 'plain'), 'x');
      setAttributeSync(join(upper, 'moved'), name, '/old');
      const err = await collect(packOverlayDiff({ upperDir: upper, lowerDirs: [] })).catch((e: unknown) => e);
      expect(err, name).to.have.property('code', 'LAYER_OVERLAY_UNSUPPORTED');
    }
  });
});
