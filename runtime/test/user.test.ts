import { expect } from 'chai';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isInvalidArgument } from '@tsbuild/core';
import { parseGroup, parsePasswd, resolveUser, resolveUserFrom } from '@tsbuild/runtime';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';

const passwd = parsePasswd('root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000::/home/tester:/bin/sh\n');
const groups = parseGroup('root:x:0:\ntester:x:1000:\nextra:x:2000:tester\nother:x:3000:root\n');

describe('user resolution', () => {
  it('name: passwd gid plus supplementary groups listing the user', () => {
    expect(resolveUserFrom('tester', passwd, groups)).to.deep.equal({ uid: 1000, gid: 1000, additionalGids: [2000], home: '/home/tester' });
  });
  it('numeric uid present in passwd behaves like its name', () => {
    expect(resolveUserFrom('1000', passwd, groups)).to.deep.equal({ uid: 1000, gid: 1000, additionalGids: [2000], home: '/home/tester' });
  });
  it('numeric uid absent from passwd is allowed with gid 0 and home / (runc getUserHome\'s default)', () => {
    expect(resolveUserFrom('4242', passwd, groups)).to.deep.equal({ uid: 4242, gid: 0, additionalGids: [], home: '/' });
  });
  it('explicit group (name or number) replaces the gid and adds no supplementary groups', () => {
    expect(resolveUserFrom('tester:extra', passwd, groups)).to.deep.equal({ uid: 1000, gid: 2000, additionalGids: [], home: '/home/tester' });
    expect(resolveUserFrom('1000:3000', passwd, groups)).to.deep.equal({ uid: 1000, gid: 3000, additionalGids: [], home: '/home/tester' });
    expect(resolveUserFrom('4242:5555', passwd, groups)).to.deep.equal({ uid: 4242, gid: 5555, additionalGids: [], home: '/' });
  });
  it('home: the first passwd entry of the uid (root by default), its empty home field kept as is', () => {
    expect(resolveUserFrom(undefined, passwd, groups).home).to.equal('/root');
    expect(resolveUserFrom('0:0', passwd, groups).home).to.equal('/root');
    const twice = parsePasswd('nohome:x:5001:5001:::/bin/sh\nalias:x:5001:5001::/home/alias:/bin/sh\n');
    expect(resolveUserFrom('alias', twice, []).home).to.equal('');
    expect(resolveUserFrom('', [], []).home).to.equal('/');
  });
  it('unknown user or group names are InvalidArgument errors with code RUNTIME_UNKNOWN_USER', () => {
    for (const spec of ['nosuch', 'tester:nogroup']) {
      let caught: unknown;
      try {
        resolveUserFrom(spec, passwd, groups);
      } catch (err) {
        caught = err;
      }
      expect(isInvalidArgument(caught), spec).to.equal(true);
      expect((caught as { code: string }).code).to.equal('RUNTIME_UNKNOWN_USER');
    }
  });
  it('reads /etc/passwd through symlinks without leaving the rootfs', async () => {
    const t = tempDir();
    try {
      const root = makeBusyboxRootfs(join(t.path, 'root'));
      // An absolute link must resolve inside the root, never to the host's /etc/passwd.
      mkdirSync(join(root, 'data'));
      writeFileSync(join(root, 'data/passwd'), 'inside:x:77:77::/:/bin/sh\n');
      const { rmSync } = await import('node:fs');
      rmSync(join(root, 'etc/passwd'));
      symlinkSync('/../../../data/passwd', join(root, 'etc/passwd'));
      expect(await resolveUser(root, 'inside')).to.deep.equal({ uid: 77, gid: 77, additionalGids: [], home: '/' });
      let caught: unknown;
      await resolveUser(root, 'root').catch((e) => (caught = e));
      expect(isInvalidArgument(caught)).to.equal(true);
    } finally {
      t.cleanup();
    }
  });
});
