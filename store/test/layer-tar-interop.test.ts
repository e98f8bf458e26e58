/**
 * Our tars against other implementations: GNU tar must read what we write
 * (PAX long names, SCHILY.xattr records incl. binary security.capability),
 * and we must read what GNU tar and node-tar write (GNU long names, `./`
 * prefixes, user/group names). Also the reader's framing checks.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAttributeSync, setAttributeSync } from 'fs-xattr';
import { Header, create } from 'tar';
import { applyLayer, packDirectory, readTar } from '@tsbuild/store';
import { tempDir } from '../../test/support/fixtures.js';
import { collect, handTar, streamOf, treeInfo } from './layer-tar-support.js';

const CAP = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
const LONG = `${'p'.repeat(90)}/${'q'.repeat(90)}/file-with-a-long-name-${'r'.repeat(60)}`;

describe('layer tar: interoperability and framing', () => {
  let tmp: ReturnType<typeof tempDir>;
  let src: string;
  beforeEach(() => {
    tmp = tempDir('tsbuild-interop-');
    src = join(tmp.path, 'src');
    mkdirSync(join(src, LONG, '..'), { recursive: true });
    writeFileSync(join(src, LONG), 'long\n');
    writeFileSync(join(src, 'cap'), 'cap\n');
    chmodSync(join(src, 'cap'), 0o755);
    setAttributeSync(join(src, 'cap'), 'security.capability', CAP);
    setAttributeSync(join(src, 'cap'), 'user.x', 'ü-value');
  });
  afterEach(() => tmp.cleanup());

  it('GNU tar extracts our tar with long names and binary xattrs intact', async () => {
    const file = join(tmp.path, 'ours.tar');
    writeFileSync(file, await collect(packDirectory(src)));
    const out = join(tmp.path, 'gnu');
    mkdirSync(out);
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-xpf', file, '-C', out]);
    expect(readFileSync(join(out, LONG), 'utf8')).to.equal('long\n');
    expect(getAttributeSync(join(out, 'cap'), 'security.capability').equals(CAP)).to.equal(true);
    expect(getAttributeSync(join(out, 'cap'), 'user.x').toString()).to.equal('ü-value');
  });

  it('applies a GNU tar (gnu format, ./ prefixes, long names) and a PAX GNU tar with xattrs', async () => {
    for (const format of ['gnu', 'posix']) {
      const file = join(tmp.path, `${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '--xattrs', '--xattrs-include=*', '-cf', file, '-C', src, '.']);
      const dst = join(tmp.path, `dst-${format}`);
      mkdirSync(dst);
      await applyLayer(dst, streamOf(readFileSync(file)));
      // GNU tar writes SCHILY.xattr PAX records in both formats with --xattrs.
      expect(await treeInfo(dst)).to.deep.equal(await treeInfo(src));
    }
  });

  it('applies what node-tar writes (portable: false, uname/gname set)', async () => {
    const tar = await collect(create({ cwd: src, portable: false }, ['.']) as unknown as NodeJS.ReadableStream as never);
    const dst = join(tmp.path, 'dst-node-tar');
    mkdirSync(dst);
    const result = await applyLayer(dst, streamOf(tar));
    expect(result.entries).to.be.greaterThan(3);
    expect(readFileSync(join(dst, LONG), 'utf8')).to.equal('long\n');
    expect(lstatSync(join(dst, 'cap')).mode & 0o777).to.equal(0o755);
  });

  it('keeps binary xattr values byte for byte through our own reader', async () => {
    const entries = new Map<string, Map<string, Buffer>>();
    for await (const e of readTar(packDirectory(src))) entries.set(e.path, e.xattrs);
    expect(entries.get('cap')!.get('security.capability')!.equals(CAP)).to.equal(true);
    expect(entries.has(LONG)).to.equal(true);
  });

  it('refuses a header with a bad checksum', async () => {
    const bytes = handTar([{ path: 'a', body: 'x' }]);
    bytes[0] = 'b'.charCodeAt(0); // path changes, checksum does not
    const err = await applyLayer(join(tmp.path), streamOf(bytes)).catch((e: unknown) => e);
    expect(err).to.have.property('code', 'LAYER_TAR_INVALID');
    expect(new Header(bytes.subarray(0, 512)).cksumValid).to.equal(false);
  });

  it('stops packing when the signal aborts', async () => {
    const controller = new AbortController();
    const stream = packDirectory(src, { signal: controller.signal });
    controller.abort();
    const err = await collect(stream).catch((e: unknown) => e);
    expect(err).to.have.property('name', 'AbortError');
  });
});
