import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { chainIds } from '@tsbuild/store';
import { tsbuild } from './support.js';

const run = promisify(execFile);

describe('tsbuild image commands (import, images, inspect, tag, rmi, save, load, prune, du, fsck)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  let rootfs: string;

  before(() => {
    tmp = tempDir('tsbuild-cli-');
    root = join(tmp.path, 'store');
    rootfs = makeBusyboxRootfs(join(tmp.path, 'rootfs'));
  });
  after(() => tmp.cleanup());

  it('imports a root filesystem directory as a one-layer image with --change', async () => {
    const r = await tsbuild(root, 'import', rootfs, '-t', 'busybox', '--change', 'CMD ["sh"]', '--change', 'ENV A=1 B="two words"');
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout.trim()).to.match(/^sha256:[a-f0-9]{64}$/);
    const inspect = JSON.parse((await tsbuild(root, 'inspect', 'busybox')).stdout);
    expect(inspect).to.have.length(1);
    expect(inspect[0].Name).to.equal('busybox:latest');
    expect(inspect[0].Digest).to.equal(r.stdout.trim());
    expect(inspect[0].Config.config.Cmd).to.deep.equal(['sh']);
    expect(inspect[0].Config.config.Env).to.deep.equal(['A=1', 'B=two words']);
    expect(inspect[0].Config.rootfs.diff_ids).to.have.length(1);
    expect(inspect[0].Manifest.layers[0].mediaType).to.equal('application/vnd.oci.image.layer.v1.tar+gzip');
  });

  it('imports the same tree deterministically under SOURCE_DATE_EPOCH', async () => {
    process.env.SOURCE_DATE_EPOCH = '1700000000';
    try {
      const a = await tsbuild(root, 'import', rootfs, '-t', 'det:a');
      const b = await tsbuild(root, 'import', rootfs, '-t', 'det:b');
      expect(a.code).to.equal(0);
      expect(a.stdout).to.equal(b.stdout);
    } finally {
      delete process.env.SOURCE_DATE_EPOCH;
    }
  });

  it('imports a tarball, compressed or not, and from stdin', async () => {
    const tarball = join(tmp.path, 'rootfs.tar.gz');
    await run('tar', ['-czf', tarball, '-C', rootfs, '.']);
    const r = await tsbuild(root, 'import', tarball, '-t', 'fromtar:1', '--compression', 'zstd');
    expect(r.code, r.stderr).to.equal(0);
    const inspect = JSON.parse((await tsbuild(root, 'inspect', 'fromtar:1')).stdout);
    expect(inspect[0].Manifest.layers[0].mediaType).to.equal('application/vnd.oci.image.layer.v1.tar+zstd');
    const { stdout } = await run('sh', ['-c', `tar -cf - -C ${rootfs} . | node cli/bin/tsbuild.js --root ${root} import - -t fromstdin`], { cwd: process.cwd() });
    expect(stdout.trim()).to.match(/^sha256:/);
  });

  it('lists images as a table and as JSON', async () => {
    const table = await tsbuild(root, 'images');
    expect(table.code).to.equal(0);
    expect(table.stdout.split('\n')[0]).to.match(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    expect(table.stdout).to.match(/\nbusybox\s+latest\s+[a-f0-9]{12}\s+/);
    const json = JSON.parse((await tsbuild(root, 'images', '--format', 'json')).stdout) as Array<{ name: string; size: number }>;
    expect(json.map((i) => i.name)).to.include.members(['busybox:latest', 'det:a', 'fromtar:1', 'fromstdin:latest']);
    expect(json.every((i) => i.size > 100_000)).to.equal(true);
  });

  it('tags and untags; rmi of an unknown image is one clear line', async () => {
    expect((await tsbuild(root, 'tag', 'busybox', 'localhost:5000/bb:v1')).code).to.equal(0);
    const a = JSON.parse((await tsbuild(root, 'inspect', 'busybox')).stdout)[0];
    const b = JSON.parse((await tsbuild(root, 'inspect', 'localhost:5000/bb:v1')).stdout)[0];
    expect(b.Digest).to.equal(a.Digest);
    expect(b.RepoTags).to.include.members(['busybox:latest', 'localhost:5000/bb:v1']);
    const rmi = await tsbuild(root, 'rmi', 'localhost:5000/bb:v1');
    expect(rmi.stdout).to.equal('Untagged: localhost:5000/bb:v1\n');
    const missing = await tsbuild(root, 'rmi', 'nosuch:image');
    expect(missing.code).to.equal(1);
    expect(missing.stderr.trim().split('\n')).to.have.length(1);
    expect(missing.stderr).to.match(/^error: .*nosuch/);
  });

  it('saves an OCI archive that skopeo reads, and loads it back into another store', async () => {
    const archive = join(tmp.path, 'bb.oci.tar');
    const s = await tsbuild(root, 'save', '--format', 'oci', '-o', archive, 'busybox');
    expect(s.code, s.stderr).to.equal(0);
    const { stdout } = await run('skopeo', ['inspect', `oci-archive:${archive}:busybox:latest`]);
    const info = JSON.parse(stdout) as { Layers: string[]; Digest: string };
    expect(info.Layers).to.have.length(1);
    const other = join(tmp.path, 'store2');
    const l = await tsbuild(other, 'load', '-i', archive);
    expect(l.code, l.stderr).to.equal(0);
    expect(l.stdout).to.equal('Loaded image: busybox:latest\n');
    const again = JSON.parse((await tsbuild(other, 'inspect', 'busybox')).stdout)[0];
    expect(again.Digest).to.equal(JSON.parse((await tsbuild(root, 'inspect', 'busybox')).stdout)[0].Digest);
    // Unpacked at load (as docker load does): the image's chain id is a committed snapshot…
    const chain = chainIds(again.Config.rootfs.diff_ids).at(-1)!;
    const committed = (r: string) => {
      const meta = JSON.parse(readFileSync(join(r, 'snapshots/metadata.json'), 'utf8')) as { snapshots: Record<string, { kind: string }> };
      return meta.snapshots[chain]?.kind === 'committed';
    };
    expect(committed(other)).to.equal(true);
    // …unless --no-unpack.
    const third = join(tmp.path, 'store3');
    expect((await tsbuild(third, 'load', '--no-unpack', '-i', archive)).code).to.equal(0);
    expect(existsSync(join(third, 'snapshots/metadata.json')) && committed(third)).to.equal(false);
  });

  it('saves a docker archive with manifest.json and loads it (also classic docker-save layout)', async () => {
    const archive = join(tmp.path, 'bb.docker.tar');
    expect((await tsbuild(root, 'save', '-o', archive, 'busybox', 'det:a')).code).to.equal(0);
    const x = join(tmp.path, 'x');
    mkdirSync(x);
    await run('tar', ['-xf', archive, '-C', x]);
    const manifest = JSON.parse(readFileSync(join(x, 'manifest.json'), 'utf8'));
    expect(manifest.map((m: { RepoTags: string[] }) => m.RepoTags[0])).to.deep.equal(['busybox:latest', 'det:a']);
    for (const m of manifest) for (const layer of m.Layers) expect(existsSync(join(x, layer))).to.equal(true);
    // A classic docker-save archive: no index.json, uncompressed layer.tar files.
    const classic = join(tmp.path, 'classic');
    mkdirSync(join(classic, 'layer1'), { recursive: true });
    const cfg = manifest[0].Config as string;
    writeFileSync(join(classic, 'config.json'), readFileSync(join(x, cfg)));
    await run('sh', ['-c', `gzip -dc < ${join(x, manifest[0].Layers[0])} > ${join(classic, 'layer1/layer.tar')}`]);
    writeFileSync(join(classic, 'manifest.json'), JSON.stringify([{ Config: 'config.json', RepoTags: ['classic:1'], Layers: ['layer1/layer.tar'] }]));
    const classicTar = join(tmp.path, 'classic.tar');
    await run('tar', ['-cf', classicTar, '-C', classic, 'config.json', 'manifest.json', 'layer1']);
    const l = await tsbuild(root, 'load', '-i', classicTar);
    expect(l.code, l.stderr).to.equal(0);
    expect(l.stdout).to.equal('Loaded image: classic:1\n');
    const img = JSON.parse((await tsbuild(root, 'inspect', 'classic:1')).stdout)[0];
    expect(img.Id).to.equal(JSON.parse((await tsbuild(root, 'inspect', 'busybox')).stdout)[0].Id);
  });

  it('du reports usage by kind; prune keeps tagged images; fsck finds and repairs corruption', async () => {
    const du = await tsbuild(root, 'du');
    expect(du.stdout).to.match(/^TYPE\s+COUNT\s+SIZE\s+RECLAIMABLE/);
    expect(du.stdout).to.match(/\nlayers\s+\d+/);
    expect((await tsbuild(root, 'rmi', 'fromstdin')).code).to.equal(0);
    const p = await tsbuild(root, 'prune', '--grace', '0');
    expect(p.code, p.stderr).to.equal(0);
    expect(p.stdout).to.match(/^Deleted \d+ blobs/);
    const clean = await tsbuild(root, 'fsck');
    expect(clean.code, clean.stdout).to.equal(0);
    expect(clean.stdout).to.match(/0 problems/);
    // Corrupt one layer blob on disk.
    const img = JSON.parse((await tsbuild(root, 'inspect', 'fromtar:1')).stdout)[0];
    const blob = join(root, 'blobs', 'sha256', img.Manifest.layers[0].digest.slice(7));
    writeFileSync(blob, 'garbage');
    const bad = await tsbuild(root, 'fsck');
    expect(bad.code).to.equal(1);
    expect(bad.stdout).to.match(/problem: blob-digest/);
    const repaired = await tsbuild(root, 'fsck', '--repair');
    expect(repaired.stdout).to.match(/repaired: blob-digest/);
    expect(readdirSync(join(root, 'blobs', 'sha256'))).to.not.include(img.Manifest.layers[0].digest.slice(7));
  });

  it('prints usage errors with exit code 2 and no stack trace', async () => {
    const r = await tsbuild(root, 'import', rootfs);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/^error: -t REF is required\nUsage: tsbuild import/);
    const bad = await tsbuild(root, 'images', '--bogus');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.not.match(/\n\s+at /);
  });
});
