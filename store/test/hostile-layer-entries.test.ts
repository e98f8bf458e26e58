/**
 * Regression tests for hostile layer tars: each case is a hand-made tar
 * (node-tar's Header, not our packer) applied to `<tmp>/root`, with a
 * sentinel directory `<tmp>/outside` next to it. Every test asserts the
 * refusal (code and entry name) and that nothing outside the root changed.
 */
import { expect } from 'chai';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAttributeSync } from 'fs-xattr';
import { applyLayer, type LayerWarning } from '@tsbuild/store';
import { tempDir } from '../../test/support/fixtures.js';
import { handTar, streamOf, type HandEntry } from './layer-tar-support.js';

describe('hostile layer entries', () => {
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  let outside: string;

  beforeEach(() => {
    tmp = tempDir('tsbuild-hostile-');
    root = join(tmp.path, 'root');
    outside = join(tmp.path, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret'), 'sentinel\n');
  });
  afterEach(() => {
    // Nothing may appear next to root/ and outside/, and the sentinel is untouched.
    const siblings = readdirSync(tmp.path).sort();
    const sentinel = readdirSync(outside);
    const secret = lstatSync(join(outside, 'secret'));
    tmp.cleanup();
    expect(siblings).to.deep.equal(['outside', 'root']);
    expect(sentinel).to.deep.equal(['secret']);
    expect(secret.nlink).to.equal(1);
    expect(secret.size).to.equal('sentinel\n'.length);
  });

  async function refused(entries: HandEntry[], entry: string, options: Parameters<typeof applyLayer>[2] = {}) {
    const err = await applyLayer(root, streamOf(handTar(entries)), options).then(
      () => expect.fail('applyLayer accepted a hostile layer'),
      (e: unknown) => e,
    );
    expect(err).to.include({ code: 'LAYER_UNSAFE_ENTRY', entry });
    return err as Error & { reason: string };
  }

  it('refuses ../ traversal', async () => {
    await refused([{ path: '../escape', body: 'x' }], '../escape');
    await refused([{ path: 'a/../../escape', body: 'x' }], 'a/../../escape');
    expect(existsSync(join(tmp.path, 'escape'))).to.equal(false);
  });

  it('applies absolute paths inside the root (leading / stripped) and warns', async () => {
    const hostPath = join(tmp.path, 'abs-created');
    const warnings: LayerWarning[] = [];
    await applyLayer(root, streamOf(handTar([{ path: hostPath, body: 'contained' }])), { onWarning: (w) => warnings.push(w) });
    expect(existsSync(hostPath)).to.equal(false);
    expect(readFileSync(join(root, hostPath), 'utf8')).to.equal('contained');
    expect(warnings).to.deep.include({ code: 'LAYER_ABSOLUTE_PATH', message: 'leading "/" stripped; applied relative to the root', entry: hostPath });
  });

  it('never writes through a symlink parent pointing outside', async () => {
    const err = await refused(
      [
        { path: 'link', type: 'SymbolicLink', linkpath: outside },
        { path: 'link/pwned', body: 'x' },
      ],
      'link/pwned',
    );
    expect(err.reason).to.match(/symlink/);
    expect(existsSync(join(outside, 'pwned'))).to.equal(false);
  });

  it('never follows a symlink chain out of the root', async () => {
    await refused(
      [
        { path: 'b', type: 'SymbolicLink', linkpath: '../outside' },
        { path: 'a', type: 'SymbolicLink', linkpath: 'b' },
        { path: 'a/pwned', body: 'x' },
      ],
      'a/pwned',
    );
    // A symlink already in the root (from a lower layer) is no different.
    symlinkSync('../outside', join(root, 'pre'));
    await refused([{ path: 'pre/deeper/pwned', body: 'x' }], 'pre/deeper/pwned');
    expect(existsSync(join(outside, 'pwned'))).to.equal(false);
    expect(existsSync(join(outside, 'deeper'))).to.equal(false);
  });

  it('replaces an existing symlink with a file instead of writing through it', async () => {
    symlinkSync(join(outside, 'secret'), join(root, 'victim'));
    await applyLayer(root, streamOf(handTar([{ path: 'victim', body: 'new content' }])));
    expect(lstatSync(join(root, 'victim')).isFile()).to.equal(true);
    expect(readFileSync(join(root, 'victim'), 'utf8')).to.equal('new content');
    expect(readFileSync(join(outside, 'secret'), 'utf8')).to.equal('sentinel\n');
  });

  it('refuses a hardlink to a path outside via ..', async () => {
    await refused([{ path: 'hl', type: 'Link', linkpath: '../outside/secret' }], 'hl');
    expect(existsSync(join(root, 'hl'))).to.equal(false);
  });

  it('refuses a hardlink to an absolute path', async () => {
    await refused([{ path: 'hl', type: 'Link', linkpath: join(outside, 'secret') }], 'hl');
    expect(existsSync(join(root, 'hl'))).to.equal(false);
  });

  it('refuses a hardlink through a symlink parent', async () => {
    symlinkSync('../outside', join(root, 'out'));
    await refused([{ path: 'hl', type: 'Link', linkpath: 'out/secret' }], 'hl');
  });

  it('refuses device nodes unless allowed; a 0/0 char device (overlay whiteout) is not a device', async () => {
    await refused([{ path: 'null', type: 'CharacterDevice', devmaj: 1, devmin: 3 }], 'null');
    await refused([{ path: 'disk', type: 'BlockDevice', devmaj: 8, devmin: 0 }], 'disk');
    expect(existsSync(join(root, 'null'))).to.equal(false);
    await applyLayer(root, streamOf(handTar([{ path: 'wh', type: 'CharacterDevice', devmaj: 0, devmin: 0 }])));
    expect(lstatSync(join(root, 'wh')).rdev).to.equal(0);
    await applyLayer(root, streamOf(handTar([{ path: 'null', type: 'CharacterDevice', devmaj: 1, devmin: 3, mode: 0o666 }])), { allowDevices: true });
    const st = lstatSync(join(root, 'null'));
    expect(st.isCharacterDevice()).to.equal(true);
    expect(st.rdev).to.equal((1 << 8) | 3);
  });

  it('refuses a whiteout naming .. or .', async () => {
    mkdirSync(join(root, 'sub'));
    await refused([{ path: 'sub/.wh...' }], 'sub/.wh...');
    await refused([{ path: 'sub/.wh..' }], 'sub/.wh..');
    await refused([{ path: '.wh...' }], '.wh...');
    expect(existsSync(join(root, 'sub'))).to.equal(true);
  });

  it('an opaque whiteout at the root empties only the root (apply) or marks it (overlay)', async () => {
    writeFileSync(join(root, 'old'), 'lower');
    mkdirSync(join(root, 'olddir'));
    await applyLayer(root, streamOf(handTar([{ path: 'new', body: 'upper' }, { path: '.wh..wh..opq' }])));
    expect(readdirSync(root)).to.deep.equal(['new']);
    await applyLayer(root, streamOf(handTar([{ path: './.wh..wh..opq' }])), { whiteouts: 'overlay' });
    expect(getAttributeSync(root, 'trusted.overlay.opaque').toString()).to.equal('y');
    expect(readdirSync(root)).to.deep.equal(['new']);
  });

  it('takes very long names from PAX records, and checks those names too', async () => {
    const long = `${'a'.repeat(120)}/${'b'.repeat(150)}/${'c'.repeat(200)}`;
    await applyLayer(root, streamOf(handTar([{ path: 'ignored-ustar-name', pax: { path: long }, body: 'deep' }])));
    expect(readFileSync(join(root, long), 'utf8')).to.equal('deep');
    const hostile = `${'x'.repeat(150)}/../../../outside/pwned`;
    await refused([{ path: 'harmless', pax: { path: hostile }, body: 'x' }], hostile);
    expect(existsSync(join(root, 'harmless'))).to.equal(false);
  });

  it('reports a truncated tar as LAYER_TAR_INVALID naming the entry', async () => {
    const full = handTar([{ path: 'ok', body: 'fine' }, { path: 'cut', body: Buffer.alloc(2000, 1) }], { end: false });
    const err = await applyLayer(root, streamOf(full.subarray(0, full.length - 1024))).catch((e: unknown) => e);
    expect(err).to.include({ code: 'LAYER_TAR_INVALID', entry: 'cut' });
    expect((err as Error).message).to.match(/truncated/);
    const midHeader = await applyLayer(root, streamOf(full.subarray(0, 512 + 512 + 100))).catch((e: unknown) => e);
    expect(midHeader).to.include({ code: 'LAYER_TAR_INVALID', entry: 'ok' });
  });
});
