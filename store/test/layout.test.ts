import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { IMAGE_NAME_ANNOTATION, MediaType, NotFoundError, REF_NAME_ANNOTATION, sha256, type Descriptor } from '@tsbuild/core';
import { OciLayoutImageStore, openLayout } from '@tsbuild/store';
import { tempDir } from '../../test/support/fixtures.js';

const run = promisify(execFile);
const desc = (s: string): Descriptor => ({ mediaType: MediaType.OciManifest, digest: sha256(s), size: s.length });

describe('layout: OciLayoutImageStore', () => {
  let dir: ReturnType<typeof tempDir>;
  let images: OciLayoutImageStore;
  beforeEach(() => {
    dir = tempDir('tsbuild-layout-');
    images = new OciLayoutImageStore(dir.path);
  });
  afterEach(() => dir.cleanup());

  it('writes a valid layout and tags with familiar ref.name and full image.name', async () => {
    await images.put('busybox', desc('a'));
    expect(JSON.parse(readFileSync(join(dir.path, 'oci-layout'), 'utf8'))).to.deep.equal({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(join(dir.path, 'index.json'), 'utf8'));
    expect(index.schemaVersion).to.equal(2);
    expect(index.manifests).to.have.length(1);
    expect(index.manifests[0].annotations[REF_NAME_ANNOTATION]).to.equal('busybox:latest');
    expect(index.manifests[0].annotations[IMAGE_NAME_ANNOTATION]).to.equal('docker.io/library/busybox:latest');
    expect(index.manifests[0].digest).to.equal(sha256('a'));
  });

  it('get accepts any spelling, a digest or a unique digest prefix', async () => {
    await images.put('docker.io/library/busybox:latest', desc('a'));
    await images.put('localhost:5000/app:1', desc('b'));
    for (const spelling of ['busybox', 'busybox:latest', 'library/busybox', 'docker.io/library/busybox:latest', sha256('a'), sha256('a').slice(0, 16), sha256('a').slice(7, 19)]) {
      const r = await images.get(spelling);
      expect(r.name, spelling).to.equal('busybox:latest');
      expect(r.target).to.deep.equal(desc('a'));
      expect(r.createdAt).to.be.a('string');
    }
    expect((await images.get('localhost:5000/app:1')).target.digest).to.equal(sha256('b'));
    const err = await images.get('busybox:other').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NotFoundError);
    expect((err as NotFoundError).code).to.equal('STORE_IMAGE_NOT_FOUND');
  });

  it('retagging replaces, delete removes, untagged entries of other tools survive', async () => {
    const untagged = desc('untagged');
    writeFileSync(join(dir.path, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [untagged] }));
    await images.put('app', desc('1'));
    await images.put('app:latest', desc('2'));
    await images.put('busybox:latest', desc('1'));
    expect((await images.list()).map((r) => [r.name, r.target.digest])).to.deep.equal([
      ['app:latest', sha256('2')],
      ['busybox:latest', sha256('1')],
    ]);
    await images.delete('docker.io/library/app');
    expect((await images.list()).map((r) => r.name)).to.deep.equal(['busybox:latest']);
    expect(JSON.parse(readFileSync(join(dir.path, 'index.json'), 'utf8')).manifests[0]).to.deep.equal(untagged);
    const err = await images.delete('app').catch((e: unknown) => e);
    expect((err as NotFoundError).code).to.equal('STORE_IMAGE_NOT_FOUND');
  });

  it('concurrent tag writes from several processes lose nothing', async () => {
    const script = (i: number) => `
      import { OciLayoutImageStore } from '@tsbuild/store';
      const s = new OciLayoutImageStore(${JSON.stringify(dir.path)});
      for (let j = 0; j < 10; j++) await s.put('app${i}:' + j, { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + '${i}'.repeat(64), size: 1 });`;
    const opts = { cwd: join(import.meta.dirname, '../..') };
    await Promise.all([0, 1, 2].map((i) => run(process.execPath, ['--conditions=tsbuild-source', '--import=tsx', '--input-type=module', '-e', script(i)], opts)));
    expect(await images.list()).to.have.length(30);
  });

  it('openLayout refuses a directory that is not a layout, and opens one read-only', async () => {
    const err = await openLayout(dir.path).catch((e: unknown) => e);
    expect((err as { code: string }).code).to.equal('STORE_NOT_OCI_LAYOUT');
    await images.put('app', desc('1'));
    const opened = await openLayout(dir.path);
    expect((await opened.images.get('app')).target.digest).to.equal(sha256('1'));
    const ro = await opened.images.put('x', desc('2')).catch((e: unknown) => e);
    expect((ro as { code: string }).code).to.equal('STORE_READ_ONLY');
  });
});
