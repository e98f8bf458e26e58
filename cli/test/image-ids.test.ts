import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { tsbuild } from './support.js';

/** Issue 15 point 1: an image is named by name, image ID (full, short, with or without sha256:) or name@digest everywhere. */
describe('image IDs: build -q, --iidfile, images and every command that names an image agree', function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  let rootfs: string;
  let iid: string;

  before(async () => {
    tmp = tempDir('tsbuild-ids-');
    root = join(tmp.path, 'store');
    rootfs = makeBusyboxRootfs(join(tmp.path, 'rootfs'));
    const a = await tsbuild(root, 'import', rootfs, '-t', 'busybox');
    expect(a.code, a.stderr).to.equal(0);
    const ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nLABEL purpose=ids\nCMD ["echo", "from-app"]\n');
    const iidfile = join(tmp.path, 'iid');
    const b = await tsbuild(root, 'build', '-q', '--iidfile', iidfile, '-t', 'app', ctx);
    expect(b.code, b.stderr).to.equal(0);
    iid = readFileSync(iidfile, 'utf8');
    expect(iid).to.match(/^sha256:[a-f0-9]{64}$/);
    // -q prints what --iidfile holds: the config digest (buildx's getImageID).
    expect(b.stdout).to.equal(`${iid}\n`);
  });
  after(() => tmp.cleanup());

  const hex = () => iid.slice('sha256:'.length);

  it('images lists the same ID, shortened; inspect shows it as Id', async () => {
    const images = await tsbuild(root, 'images', '--format', 'json');
    expect(JSON.parse(images.stdout).find((r: { name: string }) => r.name === 'app:latest').id).to.equal(iid);
    const table = await tsbuild(root, 'images', 'app');
    expect(table.stdout).to.include(hex().slice(0, 12));
    const byId = await tsbuild(root, 'inspect', iid);
    expect(byId.code, byId.stderr).to.equal(0);
    expect(JSON.parse(byId.stdout)[0]).to.deep.include({ Name: 'app:latest', Id: iid });
  });

  it('run $(cat iidfile), a short ID and sha256:<short> all run the image', async () => {
    for (const ref of [iid, hex(), hex().slice(0, 12), `sha256:${hex().slice(0, 8)}`]) {
      const r = await tsbuild(root, 'run', '--rm', ref);
      expect(r, ref).to.deep.include({ code: 0, stdout: 'from-app\n' });
    }
  });

  it('name@digest names the image by its manifest digest or its ID; a wrong repository does not match', async () => {
    const digest = JSON.parse((await tsbuild(root, 'inspect', 'app')).stdout)[0].Digest as string;
    for (const ref of [`app@${digest}`, `docker.io/library/app@${iid}`]) {
      const r = await tsbuild(root, 'inspect', ref);
      expect(r.code, r.stderr).to.equal(0);
      expect(JSON.parse(r.stdout)[0].Id).to.equal(iid);
    }
    const wrong = await tsbuild(root, 'inspect', `busybox@${digest}`);
    expect(wrong.code).to.not.equal(0);
    expect(wrong.stderr).to.equal(`error: image busybox@${digest} not found\n`);
  });

  it('tag and save take an ID; push asks for a name', async () => {
    expect((await tsbuild(root, 'tag', hex().slice(0, 12), 'other:1')).code).to.equal(0);
    const other = await tsbuild(root, 'inspect', 'other:1');
    expect(JSON.parse(other.stdout)[0].Id).to.equal(iid);
    const archive = join(tmp.path, 'app.tar');
    const saved = await tsbuild(root, 'save', '-o', archive, hex().slice(0, 12));
    expect(saved.code, saved.stderr).to.equal(0);
    expect(existsSync(archive)).to.equal(true);
    const push = await tsbuild(root, 'push', hex().slice(0, 12));
    expect(push.code).to.not.equal(0);
    expect(push.stderr).to.match(/^error: push needs a NAME\[:TAG\] to push to, not an image ID or digest/);
  });

  it('rmi by short ID refuses an image tagged in two repositories, then untags all tags of one', async () => {
    const refused = await tsbuild(root, 'rmi', hex().slice(0, 12));
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.match(/^error: unable to delete [a-f0-9]{12}: image .* is referenced in several repositories \(.*app:latest.*other:1.*\); remove it by name\n$/);
    expect((await tsbuild(root, 'rmi', 'other:1')).stdout).to.equal('Untagged: other:1\n');
    expect((await tsbuild(root, 'tag', 'app', 'app:2')).code).to.equal(0);
    const r = await tsbuild(root, 'rmi', hex().slice(0, 12));
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).to.deep.equal(['Untagged: app:2', 'Untagged: app:latest']);
    const gone = await tsbuild(root, 'inspect', iid);
    expect(gone.stderr).to.equal(`error: image ${iid} not found\n`);
  });

  it('an ambiguous prefix is a clear error naming the images', async () => {
    // Import variants until two image IDs share their first hex digit (at most 17 by pigeonhole).
    const ids: string[] = [];
    let shared: string | undefined;
    for (let n = 0; !shared; n++) {
      expect((await tsbuild(root, 'import', rootfs, '-t', `v${n}`, '--change', `LABEL n=${n}`)).code).to.equal(0);
      const id = JSON.parse((await tsbuild(root, 'inspect', `v${n}`)).stdout)[0].Id as string;
      shared = ids.find((other) => other[7] === id[7]);
      ids.push(id);
    }
    const prefix = shared.slice(0, 8);
    const pair = ids.filter((id) => id.startsWith(prefix)).sort();
    expect(pair.length).to.be.greaterThan(1);
    const r = await tsbuild(root, 'run', '--rm', prefix, 'true');
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.include(`error: image ID ${prefix} is ambiguous: it prefixes `);
    for (const id of pair) expect(r.stderr).to.include(id);
    const i = await tsbuild(root, 'inspect', prefix);
    expect(i.stderr).to.match(/is ambiguous/);
  });
});
