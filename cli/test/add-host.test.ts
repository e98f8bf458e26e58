import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { parseAddHosts } from '../src/build-flag-hosts.js';
import { tsbuild } from './support.js';

/** Issue 15 point 5: --add-host, as buildx and BuildKit (ExecOp Meta.ExtraHosts) do it. */
describe('build --add-host', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  let ctx: string;
  before(async () => {
    tmp = tempDir('tsbuild-addhost-');
    root = join(tmp.path, 'store');
    expect((await tsbuild(root, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'busybox')).code).to.equal(0);
    ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nRUN grep -E "internal|v6host" /etc/hosts > /hosts.txt || true\nFROM scratch\nCOPY --from=0 /hosts.txt /\n');
  });
  after(() => tmp.cleanup());

  it('parses HOST:IP and HOST=IP, brackets around IPv6, lowercases the host; refuses what buildx refuses', () => {
    expect(parseAddHosts(['DB.internal:10.1.2.3', 'v6host=[::1]', 'x:fe80::1'])).to.deep.equal([
      { host: 'db.internal', ip: '10.1.2.3' }, { host: 'v6host', ip: '::1' }, { host: 'x', ip: 'fe80::1' },
    ]);
    expect(() => parseAddHosts(['nohost'])).to.throw(/--add-host: invalid host "nohost"/);
    expect(() => parseAddHosts(['a:not-an-ip'])).to.throw(/invalid IP address "not-an-ip"/);
    expect(() => parseAddHosts(['a:host-gateway'])).to.throw(/host-gateway is not supported/);
  });

  it("writes the entries into every RUN's /etc/hosts, and they are part of the step's key", async () => {
    const out = join(tmp.path, 'out');
    const first = await tsbuild(root, 'build', '--progress', 'plain', '--add-host', 'db.internal:10.1.2.3', '--add-host', 'v6host=[::1]', '-o', `type=local,dest=${out}`, ctx);
    expect(first.code, first.stderr).to.equal(0);
    const hosts = readFileSync(join(out, 'hosts.txt'), 'utf8');
    expect(hosts).to.match(/^10\.1\.2\.3\tdb\.internal$/m);
    expect(hosts).to.match(/^::1\tv6host$/m);
    const out2 = join(tmp.path, 'out2');
    const without = await tsbuild(root, 'build', '--progress', 'plain', '-o', `type=local,dest=${out2}`, ctx);
    expect(without.code, without.stderr).to.equal(0);
    expect(readFileSync(join(out2, 'hosts.txt'), 'utf8')).to.equal('');
  });
});
