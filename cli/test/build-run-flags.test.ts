import { expect } from 'chai';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { hostPlatform, formatPlatform } from '@tsbuild/core';
import { parseAnnotations } from '../src/build-flag-annotations.js';
import { parseAddHosts, parseCgroupParent, parseShmSize, parseUlimits } from '../src/build-flag-run.js';
import { tsbuild } from './support.js';

/** Issue 15 point 5: --add-host, --shm-size, --ulimit, --cgroup-parent, --annotation, --label, as buildx and BuildKit (ExecOp Meta, dispatchRun) do them. */
describe('build --add-host, --shm-size, --ulimit, --cgroup-parent, --annotation, --label', function () {
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

  it('parses --shm-size as docker MemBytes and --ulimit as go-units ParseUlimit', () => {
    expect(parseShmSize('64m')).to.equal(64 * 1024 * 1024);
    expect(parseShmSize('1g')).to.equal(1024 ** 3);
    expect(() => parseShmSize('lots')).to.throw(/--shm-size: invalid size "lots"/);
    expect(parseUlimits(['nofile=1024:2048', 'nproc=-1', 'nofile=512'])).to.deep.equal([
      { name: 'nofile', soft: 512, hard: 512 }, { name: 'nproc', soft: -1, hard: -1 },
    ]);
    expect(() => parseUlimits(['nofile'])).to.throw(/invalid ulimit argument: nofile/);
    expect(() => parseUlimits(['files=1'])).to.throw(/invalid ulimit type: files/);
    expect(() => parseUlimits(['nofile=10:5'])).to.throw(/soft limit must be less than or equal to hard limit: 10 > 5/);
  });

  it('gives every RUN a /dev/shm of --shm-size and the --ulimit rlimits (unlimited too); both in the key', async () => {
    const dir = join(tmp.path, 'limits');
    mkdirSync(dir);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nRUN (df -k /dev/shm | tail -1 | awk \'{print $2}\'; ulimit -n; ulimit -Hn; ulimit -c) > /limits.txt\nFROM scratch\nCOPY --from=0 /limits.txt /\n');
    const out = join(tmp.path, 'limits-out');
    const r = await tsbuild(root, 'build', '--progress', 'plain', '--shm-size', '8m', '--ulimit', 'nofile=1000:2000', '--ulimit', 'core=-1', '-o', `type=local,dest=${out}`, dir);
    expect(r.code, r.stderr).to.equal(0);
    expect(readFileSync(join(out, 'limits.txt'), 'utf8').split('\n')).to.deep.equal(['8192', '1000', '2000', 'unlimited', '']);
    const out2 = join(tmp.path, 'limits-out2');
    const other = await tsbuild(root, 'build', '--progress', 'plain', '--shm-size', '16m', '--ulimit', 'nofile=1000:2000', '-o', `type=local,dest=${out2}`, dir);
    expect(other.code, other.stderr).to.equal(0);
    expect(readFileSync(join(out2, 'limits.txt'), 'utf8').split('\n')[0]).to.equal('16384');
  });

  it('--annotation annotates the manifest: unqualified ones and those for the build platform (buildx/BuildKit syntax)', async () => {
    expect(parseAnnotations(['a=1', 'manifest:b=x=y', 'manifest[linux/arm64]:c=2'])).to.deep.equal([
      { key: 'a', value: '1' }, { key: 'b', value: 'x=y' }, { key: 'c', value: '2', platform: 'linux/arm64' },
    ]);
    expect(() => parseAnnotations(['novalue'])).to.throw(/invalid annotation "novalue", expected key=value/);
    expect(() => parseAnnotations(['bogus:k=v'])).to.throw(/unknown annotation type "bogus"/);
    const host = formatPlatform(hostPlatform());
    const r = await tsbuild(root, 'build', '-q', '-t', 'annotated', '--annotation', 'org.opencontainers.image.source=https://example.com/repo',
      '--annotation', `manifest[${host}]:mine=yes`, '--annotation', 'manifest[linux/s390x]:other=no', ctx);
    expect(r.code, r.stderr).to.equal(0);
    const manifest = JSON.parse((await tsbuild(root, 'inspect', 'annotated')).stdout)[0].Manifest;
    expect(manifest.annotations).to.deep.equal({ 'org.opencontainers.image.source': 'https://example.com/repo', mine: 'yes' });
    const index = await tsbuild(root, 'build', '--annotation', 'index:k=v', ctx);
    expect(index.code).to.equal(1);
    expect(index.stderr).to.equal('error: --annotation index:… is not supported yet (tsbuild writes no index)\n');
  });

  it('--cgroup-parent puts every RUN container under /<parent>/buildkit/<id>; it is in the key', async () => {
    const parent = `tsbuild-test-${process.pid}`;
    const dir = join(tmp.path, 'cgroup');
    mkdirSync(dir);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nRUN cat /proc/self/cgroup > /cgroup.txt\nFROM scratch\nCOPY --from=0 /cgroup.txt /\n');
    try {
      const out = join(tmp.path, 'cgroup-out');
      const r = await tsbuild(root, 'build', '--progress', 'plain', '--cgroup-parent', parent, '-o', `type=local,dest=${out}`, dir);
      expect(r.code, r.stderr).to.equal(0);
      expect(readFileSync(join(out, 'cgroup.txt'), 'utf8')).to.match(new RegExp(`:/${parent}/buildkit/tsb-[0-9a-f]+$`, 'm'));
      const out2 = join(tmp.path, 'cgroup-out2');
      const without = await tsbuild(root, 'build', '--progress', 'plain', '-o', `type=local,dest=${out2}`, dir);
      expect(without.code, without.stderr).to.equal(0);
      expect(readFileSync(join(out2, 'cgroup.txt'), 'utf8')).not.to.contain(parent);
    } finally {
      removeCgroupDirs(parent);
    }
    expect(() => parseCgroupParent('a/../../etc')).to.throw(/must not contain a \.\. segment/);
  });

  it('--label sets image labels over the base and Dockerfile ones', async () => {
    const dir = join(tmp.path, 'labels');
    mkdirSync(dir);
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nLABEL from.dockerfile=1 overridden=dockerfile\n');
    const r = await tsbuild(root, 'build', '-q', '-t', 'labelled', '--label', 'overridden=flag', '--label', 'org.x=with space', dir);
    expect(r.code, r.stderr).to.equal(0);
    const image = JSON.parse((await tsbuild(root, 'inspect', 'labelled')).stdout)[0].Config;
    expect(image.config.Labels).to.deep.equal({ 'from.dockerfile': '1', overridden: 'flag', 'org.x': 'with space' });
  });
});

/** The cgroup directories the runtime left for `parent` (its containers' own are gone), cgroup v1 or v2. */
function removeCgroupDirs(parent: string): void {
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const roots = v2 ? ['/sys/fs/cgroup'] : readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c));
  for (const r of roots) removeDeepest(join(r, parent));
}

function removeDeepest(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeDeepest(join(dir, e.name));
  rmdirSync(dir);
}
