import { expect } from 'chai';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '@tsbuild/store';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { ContainerRecords, type ContainerRecord } from '../src/containers/records.js';
import { collect, mountsMentioning, processesMentioning, spawnTsbuild } from './run-support.js';
import { tsbuild } from './support.js';

/** The container's shell (`sh -c 'sleep 1000; true' MARKER`), not the `tsbuild run` whose arguments name the marker too. */
function containerShells(marker: string): number[] {
  return processesMentioning(marker).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sh\0');
    } catch {
      return false;
    }
  });
}

describe('tsbuild run, ps, rm (real crun/runc, real overlayfs)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  let rootfs: string;

  before(async () => {
    tmp = tempDir('tsbuild-run-');
    root = join(tmp.path, 'store');
    rootfs = makeBusyboxRootfs(join(tmp.path, 'rootfs'));
    const a = await tsbuild(root, 'import', rootfs, '-t', 'busybox', '--change', 'CMD ["sh"]', '--change', 'ENV FROM_IMAGE=img OVER=img');
    expect(a.code, a.stderr).to.equal(0);
    const b = await tsbuild(root, 'import', rootfs, '-t', 'ep', '--change', 'ENTRYPOINT ["echo","ep"]', '--change', 'CMD ["default"]', '--change', 'WORKDIR /etc', '--change', 'USER tester');
    expect(b.code, b.stderr).to.equal(0);
  });
  after(async () => {
    // Nothing of ours may stay mounted or running, whatever the tests did.
    expect(mountsMentioning(tmp.path)).to.deep.equal([]);
    tmp.cleanup();
  });

  const records = () => new ContainerRecords(root).list();
  const snapshotKeys = async () => {
    const keys: string[] = [];
    for await (const s of (await (await openStore({ root })).snapshotter()).walk()) keys.push(s.key);
    return keys;
  };

  it('run --rm busybox echo hi prints hi, exits 0 and leaves no container behind', async () => {
    const r = await tsbuild(root, 'run', '--rm', 'busybox', 'echo', 'hi');
    expect(r).to.deep.include({ code: 0, stdout: 'hi\n', stderr: '' });
    expect(await records()).to.deep.equal([]);
    expect((await snapshotKeys()).filter((k) => k.startsWith('container-'))).to.deep.equal([]);
  });

  it("propagates the container's exit code; 127 for a command not found; 125 for a missing image", async () => {
    expect((await tsbuild(root, 'run', '--rm', 'busybox', 'sh', '-c', 'exit 3')).code).to.equal(3);
    const missing = await tsbuild(root, 'run', '--rm', 'busybox', 'nosuch-cmd');
    expect(missing.code).to.equal(127);
    expect(missing.stderr).to.match(/nosuch-cmd/);
    const noImage = await tsbuild(root, 'run', '--rm', 'nosuch-image', 'true');
    expect(noImage).to.deep.include({ code: 125, stdout: '' });
    expect(noImage.stderr).to.equal('error: image "nosuch-image" not found in the store\n');
    const tty = await tsbuild(root, 'run', '--rm', '-t', 'busybox', 'true');
    expect(tty.code).to.equal(2);
    expect(tty.stderr).to.match(/no TTY support/);
  });

  it('runs with runc too (--runtime runc), with the same exit-code rules', async () => {
    const r = await tsbuild(root, 'run', '--rm', '--runtime', 'runc', 'busybox', 'sh', '-c', 'echo via-runc; exit 5');
    expect(r).to.deep.include({ code: 5, stdout: 'via-runc\n' });
    expect((await tsbuild(root, 'run', '--rm', '--runtime', 'runc', 'busybox', 'nosuch-cmd')).code).to.equal(127);
  });

  it("applies docker's ENTRYPOINT/CMD override rules, and the image's WORKDIR and USER", async () => {
    const out = async (...argv: string[]) => {
      const r = await tsbuild(root, 'run', '--rm', ...argv);
      expect(r.code, r.stderr).to.equal(0);
      return r.stdout;
    };
    expect(await out('ep')).to.equal('ep default\n');
    expect(await out('ep', 'a', 'b')).to.equal('ep a b\n');
    expect(await out('--entrypoint', 'echo', 'ep')).to.equal('\n'); // --entrypoint resets CMD
    expect(await out('--entrypoint', 'echo', 'ep', 'x')).to.equal('x\n');
    expect(await out('--entrypoint', '', 'ep', 'sh', '-c', 'echo cleared; pwd; id -un')).to.equal('cleared\n/etc\ntester\n');
  });

  it('sets env from the image, --env-file and -e (K alone copies the caller\'s), and HOSTNAME', async () => {
    const envFile = join(tmp.path, 'env.list');
    writeFileSync(envFile, '# a comment\nFROM_FILE=file value\nOVER=file\n');
    process.env.TSBUILD_TEST_CALLER = 'caller-value';
    try {
      const r = await tsbuild(root, 'run', '--rm', '--hostname', 'box1', '--env-file', envFile, '-e', 'OVER=flag', '-e', 'TSBUILD_TEST_CALLER', '-e', 'UNSET_IN_CALLER_XYZ', 'busybox', 'env');
      expect(r.code, r.stderr).to.equal(0);
      const env = r.stdout.split('\n');
      expect(env).to.include.members(['FROM_IMAGE=img', 'FROM_FILE=file value', 'OVER=flag', 'TSBUILD_TEST_CALLER=caller-value', 'HOSTNAME=box1']);
      expect(env.some((l) => l.startsWith('UNSET_IN_CALLER_XYZ'))).to.equal(false);
      expect(env.some((l) => l.startsWith('PATH=/'))).to.equal(true);
    } finally {
      delete process.env.TSBUILD_TEST_CALLER;
    }
  });

  it('honours -w and -u (uid and name); the default hostname is the short container id', async () => {
    const r = await tsbuild(root, 'run', '--rm', '-w', '/tmp/new', '-u', '1000', 'busybox', 'sh', '-c', 'pwd; id -u');
    expect(r).to.deep.include({ code: 0, stdout: '/tmp/new\n1000\n' });
    const named = await tsbuild(root, 'run', '--rm', '-u', 'tester', 'busybox', 'id');
    expect(named.stdout).to.match(/^uid=1000\(tester\) gid=1000\(tester\)/);
    const host = await tsbuild(root, 'run', '--rm', 'busybox', 'hostname');
    expect(host.stdout).to.match(/^[a-f0-9]{12}\n$/);
  });

  it('-i passes stdin to the container; without -i it reads /dev/null', async () => {
    const child = spawnTsbuild(root, ['run', '--rm', '-i', 'busybox', 'cat']);
    child.stdin!.end('x\n');
    const r = await collect(child);
    expect(r).to.deep.include({ code: 0, stdout: 'x\n' });
    const noInput = spawnTsbuild(root, ['run', '--rm', 'busybox', 'cat']);
    noInput.stdin!.write('ignored\n'); // left open: cat must still see EOF at once
    const n = await collect(noInput);
    expect(n).to.deep.include({ code: 0, stdout: '' });
  });

  it('-v binds host paths: :ro is really read-only, rw writes reach the host; a missing host path is refused', async () => {
    const host = join(tmp.path, 'vol');
    mkdirSync(host);
    writeFileSync(join(host, 'in.txt'), 'from host\n');
    const ro = await tsbuild(root, 'run', '--rm', '-v', `${host}:/data:ro`, 'busybox', 'sh', '-c', 'cat /data/in.txt; echo x > /data/new.txt');
    expect(ro.code).to.not.equal(0);
    expect(ro.stdout).to.equal('from host\n');
    expect(ro.stderr).to.match(/Read-only file system/);
    expect(existsSync(join(host, 'new.txt'))).to.equal(false);
    const rw = await tsbuild(root, 'run', '--rm', '-v', `${host}:/data`, 'busybox', 'sh', '-c', 'echo written > /data/new.txt');
    expect(rw.code, rw.stderr).to.equal(0);
    expect(readFileSync(join(host, 'new.txt'), 'utf8')).to.equal('written\n');
    const missing = await tsbuild(root, 'run', '--rm', '-v', `${join(tmp.path, 'nope')}:/data`, 'busybox', 'true');
    expect(missing.code).to.equal(125);
    expect(missing.stderr).to.match(/does not exist/);
  });

  it('--network none sees only lo; the default (host) sees the host\'s interfaces', async () => {
    const ifaces = (out: string) => out.split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean);
    const none = await tsbuild(root, 'run', '--rm', '--network', 'none', 'busybox', 'cat', '/proc/net/dev');
    expect(ifaces(none.stdout)).to.deep.equal(['lo']);
    const host = await tsbuild(root, 'run', '--rm', 'busybox', 'cat', '/proc/net/dev');
    expect(ifaces(host.stdout).sort()).to.deep.equal(ifaces(readFileSync('/proc/net/dev', 'utf8')).sort());
  });

  it('without --rm keeps the record and writable layer: ps -a shows Exited (0); rm removes both', async () => {
    const r = await tsbuild(root, 'run', '--name', 'keeper', 'busybox', 'sh', '-c', 'echo kept > /root/state.txt');
    expect(r.code, r.stderr).to.equal(0);
    const ps = await tsbuild(root, 'ps', '-a');
    expect(ps.stdout.split('\n')[0]).to.match(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+NAMES$/);
    expect(ps.stdout).to.match(/\n[a-f0-9]{12}\s+busybox\s+"sh -c 'echo kept > …"\s+.+\s+Exited \(0\) .+ago\s+keeper\n/);
    expect((await tsbuild(root, 'ps')).stdout.split('\n').filter(Boolean)).to.have.length(1); // header only: nothing running
    const [record] = (await records()).filter((c) => c.name === 'keeper') as [ContainerRecord];
    expect(record).to.deep.include({ status: 'exited', exitCode: 0, image: 'busybox', command: ['sh', '-c', 'echo kept > /root/state.txt'] });
    expect((await tsbuild(root, 'ps', '-aq')).stdout).to.equal(`${record.id.slice(0, 12)}\n`);
    const json = JSON.parse((await tsbuild(root, 'ps', '-a', '--format', 'json')).stdout) as Array<{ id: string; state: string; statusText: string }>;
    expect(json.map((c) => [c.id, c.state])).to.deep.equal([[record.id, 'exited']]);
    expect(json[0]!.statusText).to.match(/^Exited \(0\) /);
    const snapshotter = await (await openStore({ root })).snapshotter();
    expect((await snapshotter.stat(record.snapshotKey)).kind).to.equal('active'); // also loads what dir() answers from
    expect(readFileSync(join(snapshotter.dir(record.snapshotKey), 'root/state.txt'), 'utf8')).to.equal('kept\n');
    const dup = await tsbuild(root, 'run', '--name', 'keeper', 'busybox', 'true');
    expect(dup.code).to.equal(125);
    expect(dup.stderr).to.match(/name "keeper" is already in use/);
    const rm = await tsbuild(root, 'rm', record.id.slice(0, 6));
    expect(rm).to.deep.include({ code: 0, stdout: `${record.id.slice(0, 6)}\n` });
    expect(await records()).to.deep.equal([]);
    expect(await snapshotKeys()).to.not.include(record.snapshotKey);
    const again = await tsbuild(root, 'rm', 'keeper');
    expect(again.code).to.equal(1);
    expect(again.stderr).to.equal('error: no such container: keeper\n');
  });

  it('prune keeps the snapshot of a container record (and its parents) even when its image is untagged', async () => {
    const other = join(tmp.path, 'store-prune');
    expect((await tsbuild(other, 'import', rootfs, '-t', 'solo')).code).to.equal(0);
    const r = await tsbuild(other, 'run', 'solo', 'sh', '-c', 'echo x > /kept');
    expect(r.code, r.stderr).to.equal(0);
    expect((await tsbuild(other, 'rmi', 'solo')).code).to.equal(0);
    const prune = await tsbuild(other, 'prune', '--grace', '0');
    expect(prune.code, prune.stderr).to.equal(0);
    const [record] = await new ContainerRecords(other).list();
    const snapshotter = await (await openStore({ root: other })).snapshotter();
    const info = await snapshotter.stat(record!.snapshotKey);
    expect(info.kind).to.equal('active');
    expect((await snapshotter.stat(info.parent!)).kind).to.equal('committed');
    expect(readFileSync(join(snapshotter.dir(record!.snapshotKey), 'kept'), 'utf8')).to.equal('x\n');
    expect((await tsbuild(other, 'rm', record!.name)).code).to.equal(0);
  });

  it('SIGTERM to a running `tsbuild run` kills the container, exits 143 and leaves no mounts or processes', async () => {
    const marker = `sleep-marker-${process.pid}`;
    // The marker is sh's $0, and `; true` keeps sh from exec'ing sleep, so the container's own process carries it
    // (`exec -a` cannot: busybox picks its applet by argv[0], and the process died at once with 127).
    const child = spawnTsbuild(root, ['run', '--name', 'sleeper', 'busybox', 'sh', '-c', 'sleep 1000; true', marker]);
    const done = collect(child);
    const running = await waitFor(async () => (await records()).find((c) => c.name === 'sleeper' && c.status === 'running') && containerShells(marker).length > 0);
    expect(running, 'container started').to.equal(true);
    const ps = await tsbuild(root, 'ps');
    expect(ps.stdout).to.match(/\n[a-f0-9]{12}\s+busybox\s+.*\s+Up .*\s+sleeper\n/);
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code, r.stderr).to.equal(143);
    const [record] = (await records()).filter((c) => c.name === 'sleeper') as [ContainerRecord];
    expect(record).to.deep.include({ status: 'exited', exitCode: 143 });
    expect(processesMentioning(marker)).to.deep.equal([]);
    expect(mountsMentioning(record.id)).to.deep.equal([]);
    expect(existsSync(`/run/tsbuild/crun/${record.id}`)).to.equal(false);
    expect((await tsbuild(root, 'rm', 'sleeper')).code).to.equal(0);
  });

  it('rm refuses a running container; rm -f stops it (its run exits 143) and removes it', async () => {
    const marker = `rmf-marker-${process.pid}`;
    const child = spawnTsbuild(root, ['run', '--name', 'victim', 'busybox', 'sh', '-c', 'sleep 1000; true', marker]);
    const done = collect(child);
    expect(await waitFor(async () => (await records()).some((c) => c.name === 'victim' && c.status === 'running') && containerShells(marker).length > 0)).to.equal(true);
    const refused = await tsbuild(root, 'rm', 'victim');
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/is running/);
    const [record] = (await records()).filter((c) => c.name === 'victim') as [ContainerRecord];
    const forced = await tsbuild(root, 'rm', '-f', 'victim');
    expect(forced).to.deep.include({ code: 0, stdout: 'victim\n' });
    expect((await done).code).to.equal(143);
    expect(await records()).to.deep.equal([]);
    expect(await snapshotKeys()).to.not.include(record.snapshotKey);
    expect(processesMentioning(marker)).to.deep.equal([]);
    expect(mountsMentioning(record.id)).to.deep.equal([]);
  });
});

/** Polls `check` until it is truthy (true) or about 30 s have passed (false). */
async function waitFor(check: () => Promise<unknown>): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}
