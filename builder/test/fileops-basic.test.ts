import { expect } from 'chai';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlreadyExists, isNotFound } from '@tsbuild/core';
import { mkdir, mkfile, rm, symlink, resolveOwner, resolveInRoot, parseChmod, UnknownOwnerError } from '@tsbuild/builder';
import { tempDir, makeBusyboxRootfs } from '../../test/support/fixtures.js';

describe('fileops basic ops', () => {
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  let host: string;
  beforeEach(() => {
    tmp = tempDir();
    root = join(tmp.path, 'root');
    host = join(tmp.path, 'host');
    mkdirSync(root);
    mkdirSync(host);
    symlinkSync(host, join(root, 'out')); // absolute link: must resolve to root/<host>
  });
  afterEach(() => tmp.cleanup());

  it('mkdir with parents creates owned directories; without parents needs the parent', async () => {
    await mkdir({ root, path: '/a/b/c', mode: 0o750, uid: 7, gid: 8, parents: true });
    const st = statSync(join(root, 'a/b/c'));
    expect([st.mode & 0o7777, st.uid, st.gid]).to.deep.equal([0o750, 7, 8]);
    expect(statSync(join(root, 'a')).uid).to.equal(7);
    const before = statSync(join(root, 'a/b'));
    await mkdir({ root, path: '/a/b', mode: 0o700, uid: 9, gid: 9, parents: true }); // exists: kept as it is (BuildKit's MkdirAll)
    const after = statSync(join(root, 'a/b'));
    expect([after.mode, after.uid, after.gid]).to.deep.equal([before.mode, before.uid, before.gid]);
    const missing = await mkdir({ root, path: '/x/y', mode: 0o755 }).catch((e: unknown) => e);
    expect(isNotFound(missing)).to.equal(true);
    const exists = await mkdir({ root, path: '/a', mode: 0o755 }).catch((e: unknown) => e);
    expect(isAlreadyExists(exists)).to.equal(true);
  });

  it('mkfile writes data, mode and owner in-root, replacing a symlink instead of writing through it', async () => {
    writeFileSync(join(host, 'target'), 'host');
    symlinkSync(join(host, 'target'), join(root, 'link'));
    await mkfile({ root, path: '/link', data: 'heredoc\n', mode: 0o700, uid: 1, gid: 2 });
    expect(readFileSync(join(host, 'target'), 'utf8')).to.equal('host');
    expect(lstatSync(join(root, 'link')).isFile()).to.equal(true);
    expect(statSync(join(root, 'link')).mode & 0o7777).to.equal(0o700);
    await mkfile({ root, path: '/out/planted', data: 'x' });
    expect(existsSync(join(host, 'planted'))).to.equal(false);
    expect(readFileSync(join(root, host.slice(1), 'planted'), 'utf8')).to.equal('x');
  });

  it('rm removes without following a final symlink; allowNotFound', async () => {
    writeFileSync(join(host, 'keep'), 'k');
    await rm({ root, path: '/out' });
    expect(existsSync(join(root, 'out'))).to.equal(false);
    expect(existsSync(join(host, 'keep'))).to.equal(true);
    await rm({ root, path: '/nope', allowNotFound: true });
    expect(isNotFound(await rm({ root, path: '/nope' }).catch((e: unknown) => e))).to.equal(true);
  });

  it('symlink stores the target text', async () => {
    await symlink({ root, path: '/usr/bin/sh-link', target: '/bin/sh' });
    expect(readlinkSync(join(root, 'usr/bin/sh-link'))).to.equal('/bin/sh');
  });

  it('resolveInRoot keeps absolute and ../ link targets inside the root', async () => {
    symlinkSync('../../../../..', join(root, 'up'));
    expect(await resolveInRoot(root, '/out/x', { followFinal: true })).to.equal(join(root, host, 'x'));
    expect(await resolveInRoot(root, '/up/etc/passwd')).to.equal(join(root, 'etc/passwd'));
    expect(await resolveInRoot(root, '/../../etc')).to.equal(join(root, 'etc'));
  });
});

describe('resolveOwner', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
    makeBusyboxRootfs(tmp.path);
  });
  afterEach(() => tmp.cleanup());

  it('resolves names from the image, numbers pass through', async () => {
    expect(await resolveOwner(tmp.path, 'tester')).to.deep.equal({ uid: 1000, gid: 1000 });
    expect(await resolveOwner(tmp.path, 'tester:extra')).to.deep.equal({ uid: 1000, gid: 2000 });
    expect(await resolveOwner(tmp.path, '42:43')).to.deep.equal({ uid: 42, gid: 43 });
    expect(await resolveOwner(tmp.path, '1000')).to.deep.equal({ uid: 1000, gid: 1000 });
    expect(await resolveOwner(tmp.path, 'nobody:0')).to.deep.equal({ uid: 65534, gid: 0 });
    expect(await resolveOwner(tmp.path, ':extra')).to.deep.equal({ uid: 0, gid: 2000 }); // as BuildKit (dockerd 20.10) writes it
    expect(await resolveOwner(tmp.path, ':2000')).to.deep.equal({ uid: 0, gid: 2000 });
    writeFileSync(join(tmp.path, 'etc/passwd'), 'odd:x:3000:4000::/:/bin/sh\n', { flag: 'a' });
    expect(await resolveOwner(tmp.path, '3000')).to.deep.equal({ uid: 3000, gid: 3000 }); // a UID alone is the GID too, not passwd's
    expect(await resolveOwner(tmp.path, 'odd')).to.deep.equal({ uid: 3000, gid: 4000 });
  });

  it('unknown names are typed errors with BuildKit wording', async () => {
    const err = await resolveOwner(tmp.path, 'ghost').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(UnknownOwnerError);
    expect((err as Error).message).to.equal('unable to find user ghost');
    const gerr = await resolveOwner(tmp.path, 'tester:ghosts').catch((e: unknown) => e);
    expect((gerr as Error).message).to.equal('unable to find group ghosts');
  });

  it('reads the image passwd, not the host one, even through an absolute /etc symlink', async () => {
    const other = tempDir();
    try {
      symlinkSync('/etc', join(other.path, 'etc')); // in-root: points back at itself, never the host /etc
      const err = await resolveOwner(other.path, 'root').catch((e: unknown) => e);
      expect(err).to.be.instanceOf(Error);
    } finally {
      other.cleanup();
    }
  });
});

describe('parseChmod', () => {
  it('octal and symbolic modes', () => {
    expect(parseChmod('755')(0o644, false)).to.equal(0o755);
    expect(parseChmod(0o600)(0o777, false)).to.equal(0o600);
    expect(parseChmod('u+x')(0o644, false)).to.equal(0o744);
    expect(parseChmod('go-rwx')(0o755, true)).to.equal(0o700);
    expect(parseChmod('a=rX')(0o600, true)).to.equal(0o555);
    expect(parseChmod('a=rX')(0o600, false)).to.equal(0o444);
    expect(() => parseChmod('u+q')).to.throw(/invalid chmod/);
  });
});
