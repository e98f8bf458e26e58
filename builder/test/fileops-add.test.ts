import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { create as createTar, Header } from 'tar';
import { CompressStream } from 'zstd-napi';
import { isInvalidArgument } from '@tsbuild/core';
import { copy, detectArchive, kindOf } from '@tsbuild/builder';
import { tempDir } from '../../test/support/fixtures.js';

describe('copy mode add (ADD of local archives)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let src: string;
  let dst: string;
  let tarFile: string;
  beforeEach(async () => {
    tmp = tempDir();
    src = join(tmp.path, 'src');
    dst = join(tmp.path, 'dst');
    const tree = join(tmp.path, 'tree');
    mkdirSync(join(tree, 'pkg/bin'), { recursive: true });
    mkdirSync(src);
    mkdirSync(dst);
    writeFileSync(join(tree, 'pkg/readme'), 'hello from the archive\n');
    writeFileSync(join(tree, 'pkg/bin/tool'), '#!/bin/sh\n', { mode: 0o755 });
    execFileSync('ln', ['-s', 'bin/tool', join(tree, 'pkg/tool-link')]);
    tarFile = join(src, 'plain.tar');
    await createTar({ cwd: tree, file: tarFile, portable: false }, ['pkg']);
  });
  afterEach(() => tmp.cleanup());

  const add = (pattern: string, dest = '/opt/') => copy({ srcRoot: src, srcPatterns: [pattern], destRoot: dst, dest, mode: 'add' });
  const expectExtracted = (base = 'opt') => {
    expect(readFileSync(join(dst, base, 'pkg/readme'), 'utf8')).to.equal('hello from the archive\n');
    expect(statSync(join(dst, base, 'pkg/bin/tool')).mode & 0o777).to.equal(0o755);
    expect(readlinkSync(join(dst, base, 'pkg/tool-link'))).to.equal('bin/tool');
  };

  it('extracts a plain tar', async () => {
    expect(await detectArchive(tarFile)).to.equal('tar');
    await add('plain.tar');
    expectExtracted();
  });

  it('extracts gzip (zlib) and zstd (zstd-napi)', async () => {
    await pipeline(createReadStream(tarFile), createGzip(), createWriteStream(join(src, 'a.tgz')));
    await pipeline(createReadStream(tarFile), new CompressStream(), createWriteStream(join(src, 'a.tar.zst')));
    expect(await detectArchive(join(src, 'a.tgz'))).to.equal('gzip');
    expect(await detectArchive(join(src, 'a.tar.zst'))).to.equal('zstd');
    // A skippable frame (magic 0x184D2A5X, a length, that many bytes) before the data is zstd too.
    const skippable = Buffer.alloc(8 + 3);
    skippable.writeUInt32LE(0x184d2a53, 0);
    skippable.writeUInt32LE(3, 4);
    writeFileSync(join(src, 'skip.tar.zst'), Buffer.concat([skippable, readFileSync(join(src, 'a.tar.zst'))]));
    expect(await detectArchive(join(src, 'skip.tar.zst'))).to.equal('zstd');
    await add('skip.tar.zst', '/skip');
    expectExtracted('skip');
    await add('a.tgz', '/gz');
    await add('a.tar.zst', '/zst');
    expectExtracted('gz');
    expectExtracted('zst');
  });

  for (const [cli, ext] of [['bzip2', 'bz2'], ['xz', 'xz']] as const) {
    // Needs the bzip2 / xz CLIs (Debian bzip2, xz-utils); fails loudly without them.
    it(`extracts ${cli} (through the ${cli} CLI)`, async () => {
      execFileSync(cli, ['-k', tarFile]);
      const file = `${tarFile}.${ext}`;
      expect(await detectArchive(file)).to.equal(cli);
      await add(`plain.tar.${ext}`, `/${cli}`);
      expectExtracted(cli);
    });
  }

  it('detects by content, not by name: a non-archive .tar.gz is copied as a file', async () => {
    writeFileSync(join(src, 'fake.tar.gz'), 'just text');
    await add('fake.tar.gz', '/f/');
    expect(readFileSync(join(dst, 'f/fake.tar.gz'), 'utf8')).to.equal('just text');
    expect(kindOf(Buffer.from('BZh91AY'))).to.equal('bzip2');
  });

  it('an archive is what decompresses to a valid first tar header (BuildKit isArchivePath); anything else is copied', async () => {
    const raw = readFileSync(tarFile);
    const files: Record<string, Buffer> = {
      'text.gz': gzipSync(Buffer.from('plain text, gzip-compressed\n')),
      'empty.gz': gzipSync(Buffer.alloc(0)),
      'zeros.tar': Buffer.alloc(1024),
      'short.tar': raw.subarray(0, 511),
      'badsum.tar': Buffer.concat([raw.subarray(0, 148), Buffer.from('0000000\0'), raw.subarray(156)]),
      'badsize.tar': withChecksum(Buffer.concat([raw.subarray(0, 124), Buffer.from('0000000009z\0'), raw.subarray(136, 512)])),
      'corrupt.gz': Buffer.concat([gzipSync(raw).subarray(0, 10), Buffer.from('not deflate data at all')]),
      'text.bz2': execFileSync('bzip2', ['-c'], { input: 'bzip2 text\n' }),
      'text.xz': execFileSync('xz', ['-c'], { input: 'xz text\n' }),
    };
    for (const [name, data] of Object.entries(files)) {
      writeFileSync(join(src, name), data);
      expect(await detectArchive(join(src, name)), name).to.equal(undefined);
      await add(name, '/raw/');
      expect(readFileSync(join(dst, 'raw', name)).equals(data), name).to.equal(true);
    }
  });

  it('the tar magic is not required (a V7 header is a tar) and a tar named .txt is extracted', async () => {
    const tree = join(tmp.path, 'tree');
    execFileSync('tar', ['--format=v7', '-cf', join(src, 'v7.txt'), '-C', tree, 'pkg']);
    expect(readFileSync(join(src, 'v7.txt')).subarray(257, 262).toString('latin1')).to.not.equal('ustar');
    expect(await detectArchive(join(src, 'v7.txt'))).to.equal('tar');
    await add('v7.txt', '/v7/');
    expect(readFileSync(join(dst, 'v7/pkg/readme'), 'utf8')).to.equal('hello from the archive\n');
  });

  it('a wildcard extracts each archive it matches and copies the rest', async () => {
    await pipeline(createReadStream(tarFile), createGzip(), createWriteStream(join(src, 'one.tgz')));
    writeFileSync(join(src, 'two.tgz'), gzipSync(Buffer.from('not a tar')));
    await add('*.tgz', '/w/');
    expect(readFileSync(join(dst, 'w/pkg/readme'), 'utf8')).to.equal('hello from the archive\n');
    expect(gunzipSync(readFileSync(join(dst, 'w/two.tgz'))).toString()).to.equal('not a tar');
    expect(existsSync(join(dst, 'w/one.tgz'))).to.equal(false);
  });

  it('over existing entries, tar semantics: a directory entry replaces a symlink or a file, a file entry replaces a directory (go-archive Unpack)', async () => {
    mkdirSync(join(dst, 'opt/real'), { recursive: true });
    writeFileSync(join(dst, 'opt/real/keep'), 'keep');
    symlinkSync('/opt/real', join(dst, 'opt/pkg')); // the archive's pkg/ directory lands here
    mkdirSync(join(dst, 'opt/readme-dir/deep'), { recursive: true });
    writeFileSync(join(tmp.path, 'tree/readme-dir'), 'was a directory');
    await createTar({ cwd: join(tmp.path, 'tree'), file: join(src, 'over.tar'), portable: false }, ['pkg', 'readme-dir']);
    await add('over.tar');
    expect(lstatSync(join(dst, 'opt/pkg')).isDirectory()).to.equal(true);
    expectExtracted();
    expect(readFileSync(join(dst, 'opt/real/keep'), 'utf8')).to.equal('keep');
    expect(existsSync(join(dst, 'opt/real/readme'))).to.equal(false);
    expect(readFileSync(join(dst, 'opt/readme-dir'), 'utf8')).to.equal('was a directory');
  });

  it('extraction is chrooted into the destination: an entry through an absolute symlink there stays below the destination', async () => {
    mkdirSync(join(dst, 'opt/inner'), { recursive: true });
    mkdirSync(join(dst, 'target'));
    symlinkSync('/target', join(dst, 'opt/abs'));
    symlinkSync('inner', join(dst, 'opt/rel'));
    writeFileSync(join(src, 'through.tar'), rawTar([{ path: 'abs/z.txt', body: 'z' }, { path: 'rel/y.txt', body: 'y' }]));
    mkdirSync(join(dst, 'opt/target'));
    await add('through.tar');
    expect(readFileSync(join(dst, 'opt/target/z.txt'), 'utf8')).to.equal('z');
    expect(existsSync(join(dst, 'target/z.txt'))).to.equal(false);
    expect(readFileSync(join(dst, 'opt/inner/y.txt'), 'utf8')).to.equal('y');
  });

  it('a plain COPY of an archive copies it unextracted', async () => {
    await copy({ srcRoot: src, srcPatterns: ['plain.tar'], destRoot: dst, dest: '/c/' });
    expect(lstatSync(join(dst, 'c/plain.tar')).isFile()).to.equal(true);
  });

  it('refuses a hostile archive with a ../ entry and writes nothing outside', async () => {
    const evil = join(src, 'evil.tar');
    writeFileSync(evil, rawTar([{ path: 'ok.txt', body: 'ok' }, { path: '../../escaped.txt', body: 'pwned' }]));
    const err = await add('evil.tar', '/x/').catch((e: unknown) => e);
    expect(isInvalidArgument(err)).to.equal(true);
    expect((err as { code: string }).code).to.equal('FILEOPS_PATH_ESCAPES');
    expect(existsSync(join(tmp.path, 'escaped.txt'))).to.equal(false);
    expect(existsSync(join(dst, 'escaped.txt'))).to.equal(false);
  });

  it('an archive symlink to an absolute path cannot carry a later entry out of the destination', async () => {
    const outside = join(tmp.path, 'outside');
    mkdirSync(outside);
    const evil = join(src, 'evil2.tar');
    writeFileSync(evil, rawTar([{ path: 'dir', type: 'SymbolicLink', linkpath: outside }, { path: 'dir/planted.txt', body: 'pwned' }]));
    await add('evil2.tar', '/x/').catch(() => undefined);
    expect(existsSync(join(outside, 'planted.txt'))).to.equal(false);
  });
});

/** A tar built header by header, so hostile names reach the archive unchanged. */
function rawTar(entries: Array<{ path: string; body?: string; type?: 'File' | 'SymbolicLink'; linkpath?: string }>): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const header = new Header({
      path: e.path,
      mode: 0o644,
      size: e.type === 'SymbolicLink' ? 0 : body.length,
      type: e.type ?? 'File',
      linkpath: e.linkpath ?? '',
      mtime: new Date(0),
      uid: 0,
      gid: 0,
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (e.type !== 'SymbolicLink' && body.length) blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** `header` (a 512-byte tar header block) with its checksum field recomputed. */
function withChecksum(header: Buffer): Buffer {
  const h = Buffer.from(header);
  h.fill(0x20, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}
