import { expect } from 'chai';
import {
  buildEnv,
  buildSpec,
  capabilitiesFromMask,
  DEFAULT_CAPABILITIES,
  DEFAULT_PATH,
  deleteInvocation,
  hostsFile,
  hybridCgroupShim,
  killInvocation,
  MASKED_PATHS,
  mountCalls,
  MS,
  READONLY_PATHS,
  resolvConf,
  runInvocation,
  type ExecRequest,
} from '@tsbuild/runtime';

const request = (over: Partial<ExecRequest> = {}): ExecRequest => ({
  rootfs: [],
  process: { args: ['sh', '-c', 'true'], env: [], cwd: '/' },
  mounts: [],
  network: 'none',
  ...over,
});
const root = { uid: 0, gid: 0, additionalGids: [], home: '/root' };

describe('buildSpec (pure)', () => {
  it('always isolates mount, pid, uts and ipc; adds a network namespace only for network none', () => {
    const none = buildSpec(request(), root, { mounts: [] }).linux.namespaces.map((n) => n.type);
    expect(none).to.have.members(['mount', 'pid', 'uts', 'ipc', 'network']);
    const host = buildSpec(request({ network: 'host' }), root, { mounts: [] }).linux.namespaces.map((n) => n.type);
    expect(host).to.have.members(['mount', 'pid', 'uts', 'ipc']);
  });

  it("grants docker's 14 default capabilities in bounding, effective and permitted sets", () => {
    const caps = buildSpec(request(), root, { mounts: [] }).process.capabilities;
    expect(DEFAULT_CAPABILITIES).to.have.length(14);
    for (const set of [caps.bounding, caps.effective, caps.permitted]) expect(set).to.have.members([...DEFAULT_CAPABILITIES]);
    expect(caps.bounding).to.not.include('CAP_SYS_ADMIN');
  });

  it('masks and read-only-protects docker paths in sandbox mode; insecure grants all caps and unmasks', () => {
    const sandbox = buildSpec(request(), root, { mounts: [] });
    expect(sandbox.linux.maskedPaths).to.include.members(['/proc/kcore', '/sys/firmware']).and.to.have.length(MASKED_PATHS.length);
    expect(sandbox.linux.readonlyPaths).to.include('/proc/sys').and.to.have.length(READONLY_PATHS.length);
    const insecure = buildSpec(request({ security: 'insecure' }), root, { mounts: [] });
    expect(insecure.process.capabilities.bounding).to.include('CAP_SYS_ADMIN');
    expect(insecure.linux.maskedPaths).to.deep.equal([]);
    expect(insecure.linux.readonlyPaths).to.deep.equal([]);
  });

  it('never grants capabilities the host process lacks (capset would fail)', () => {
    const host = capabilitiesFromMask(0x1fffeffffffn); // no CAP_SYS_RESOURCE (bit 24)
    expect(host).to.have.length(40).and.not.include('CAP_SYS_RESOURCE');
    expect(capabilitiesFromMask(0xa80425fbn)).to.have.members([...DEFAULT_CAPABILITIES]);
    const insecure = buildSpec(request({ security: 'insecure' }), root, { mounts: [], hostCapabilities: host });
    expect(insecure.process.capabilities.bounding).to.have.members(host);
  });

  it('mounts /proc, /dev (+pts, shm, mqueue), read-only /sys and cgroup before the step mounts', () => {
    const extra = { destination: '/x', type: 'bind', source: '/h', options: ['rbind', 'ro'] };
    const mounts = buildSpec(request(), root, { mounts: [extra] }).mounts;
    expect(mounts.map((m) => m.destination)).to.deep.equal(['/proc', '/dev', '/dev/pts', '/sys', '/sys/fs/cgroup', '/dev/mqueue', '/dev/shm', '/x']);
    expect(mounts.find((m) => m.destination === '/sys')!.options).to.include('ro');
    expect(mounts.find((m) => m.destination === '/sys/fs/cgroup')!.options).to.include('ro');
  });

  it('sets user, umask 0022 by default, cwd, hostname, no terminal', () => {
    const spec = buildSpec(request({ hostname: 'h1', process: { args: ['id'], env: [], cwd: '/w', umask: 0o077 } }), { uid: 1000, gid: 1000, additionalGids: [2000], home: '/home/tester' }, { mounts: [] });
    expect(spec.process.user).to.deep.equal({ uid: 1000, gid: 1000, umask: 0o077, additionalGids: [1000, 2000] });
    expect(spec.process.cwd).to.equal('/w');
    expect(spec.hostname).to.equal('h1');
    expect(spec.process.terminal).to.equal(false);
    expect(buildSpec(request(), root, { mounts: [] }).process.user.umask).to.equal(0o022);
  });

  it('defaults PATH only when absent and adds extra env without overriding the request', () => {
    expect(buildEnv(['A=1'])).to.deep.equal(['A=1', `PATH=${DEFAULT_PATH}`]);
    expect(buildEnv(['PATH=/x'])).to.deep.equal(['PATH=/x']);
    expect(buildEnv(['SSH_AUTH_SOCK=/mine'], ['SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0'])).to.deep.equal(['SSH_AUTH_SOCK=/mine', `PATH=${DEFAULT_PATH}`]);
  });
  it('HOME: the user\'s home when the environment has none or an empty one, last (runc prepareEnv); a set HOME stays', () => {
    expect(buildEnv(['A=1'], [], '/')).to.deep.equal(['A=1', `PATH=${DEFAULT_PATH}`, 'HOME=/']);
    expect(buildEnv(['HOME=', 'A=1'], [], '/home/t')).to.deep.equal(['A=1', `PATH=${DEFAULT_PATH}`, 'HOME=/home/t']);
    expect(buildEnv(['HOME=/custom'], [], '/home/t')).to.deep.equal(['HOME=/custom', `PATH=${DEFAULT_PATH}`]);
    expect(buildSpec(request(), { uid: 4242, gid: 0, additionalGids: [], home: '/' }, { mounts: [] }).process.env).to.include('HOME=/');
  });

  it('puts the cgroup under a cgroup parent as BuildKit GenerateSpec does: /<parent>/buildkit/<id>, or a systemd slice + id', () => {
    const cgroupsPath = (cgroupParent?: string) => buildSpec(request(cgroupParent ? { cgroupParent } : {}), root, { mounts: [], containerId: 'tsb-1' }).linux.cgroupsPath;
    expect(cgroupsPath()).to.equal(undefined);
    expect(cgroupsPath('ci/jobs')).to.equal('/ci/jobs/buildkit/tsb-1');
    expect(cgroupsPath('/ci')).to.equal('/ci/buildkit/tsb-1');
    expect(cgroupsPath('ci.slice:tsbuild:')).to.equal('ci.slice:tsbuild:tsb-1');
  });
});

describe('runtime argv and mount calls (pure)', () => {
  const rt = { path: '/usr/bin/crun', stateDir: '/run/s' };
  it('runs in the foreground with --root and --bundle; kills with KILL; force-deletes', () => {
    expect(runInvocation(rt, '/b', 'c1')).to.deep.equal({ file: '/usr/bin/crun', args: ['--root', '/run/s', 'run', '--bundle', '/b', 'c1'] });
    expect(killInvocation(rt, 'c1').args).to.deep.equal(['--root', '/run/s', 'kill', 'c1', 'KILL']);
    expect(deleteInvocation(rt, 'c1').args).to.deep.equal(['--root', '/run/s', 'delete', '--force', 'c1']);
  });

  it('starts crun through the unshare shim only on hybrid cgroup hosts', () => {
    expect(hybridCgroupShim('/usr/bin/crun', '')).to.deep.equal([]);
    expect(hybridCgroupShim('/usr/sbin/runc', 'hugetlb\n')).to.deep.equal([]);
    const shim = hybridCgroupShim('/usr/bin/crun', 'hugetlb\n');
    expect(shim[0]).to.equal('unshare');
    const inv = runInvocation({ ...rt, shim }, '/b', 'c1');
    expect(inv.file).to.equal('unshare');
    expect(inv.args.slice(-7)).to.deep.equal(['/usr/bin/crun', '--root', '/run/s', 'run', '--bundle', '/b', 'c1']);
  });

  it('turns mounts into mount(2) calls the way mount(8) parses -o', () => {
    expect(mountCalls({ type: 'overlay', source: 'overlay', options: ['ro', 'index=off', 'lowerdir=a:b'] }, '/t'))
      .to.deep.equal([{ source: 'overlay', target: '/t', fstype: 'overlay', flags: MS.RDONLY, data: 'index=off,lowerdir=a:b' }]);
    expect(mountCalls({ type: 'overlay', source: 'overlay', options: ['index=off', 'lowerdir=a', 'upperdir=u', 'workdir=w'] }, '/t')[0]!.data)
      .to.equal('index=off,lowerdir=a,upperdir=u,workdir=w');
    expect(mountCalls({ type: 'tmpfs', source: 'tmpfs', options: ['mode=0700', 'size=16m', 'nosuid', 'nodev', 'noexec'] }, '/s'))
      .to.deep.equal([{ source: 'tmpfs', target: '/s', fstype: 'tmpfs', flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: 'mode=0700,size=16m' }]);
    // A bind takes only MS_REC at first: read-only (and the rest) is a remount of it.
    expect(mountCalls({ type: 'bind', source: '/src', options: ['rbind', 'ro'] }, '/t')).to.deep.equal([
      { source: '/src', target: '/t', fstype: null, flags: MS.BIND | MS.REC, data: null },
      { source: null, target: '/t', fstype: null, flags: MS.REMOUNT | MS.BIND | MS.RDONLY, data: null },
    ]);
    expect(mountCalls({ type: 'bind', source: '/src', options: ['rbind', 'rw'] }, '/t')).to.deep.equal([{ source: '/src', target: '/t', fstype: null, flags: MS.BIND | MS.REC, data: null }]);
    expect(mountCalls({ type: 'none', source: '/src', options: ['bind'] }, '/t')).to.deep.equal([{ source: '/src', target: '/t', fstype: null, flags: MS.BIND, data: null }]);
  });
});

describe('etc files (pure)', () => {
  it('hosts maps localhost and the hostname, plus extra hosts', () => {
    const text = hostsFile('box', [{ host: 'reg', ip: '10.0.0.2' }]);
    expect(text).to.match(/^127\.0\.0\.1\tlocalhost box$/m).and.match(/^10\.0\.0\.2\treg$/m);
  });
  it('resolv.conf: host copy for host network; loopback nameservers dropped otherwise; default when missing', () => {
    const host = 'search x\nnameserver 127.0.0.53\n';
    expect(resolvConf(host, 'host')).to.equal(host);
    expect(resolvConf(host, 'none')).to.equal('search x\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n');
    expect(resolvConf(undefined, 'none')).to.contain('nameserver 8.8.8.8');
  });
});
