/**
 * Issue 4's "Diffs": after a RUN, the overlay upper dir becomes the step's
 * layer. A real container (crun, overlayfs) deletes, replaces, re-modes,
 * re-owns, links and writes files; its own view of the filesystem is listed
 * from inside it. The upper dir is packed as a layer and applied onto the
 * base tree, and the result — listed by the same busybox command, in a
 * chroot — must equal the container's view file by file (type, mode, owner,
 * size, mtime, content digest, link target).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createExecutor } from '@tsbuild/runtime';
import { applyLayer, OverlaySnapshotter, packDirectory, packOverlayDiff } from '@tsbuild/store';
import { makeBusyboxRootfs, tempDir } from './support/fixtures.js';

/** Busybox: every entry but the runtime's own mounts, with stat fields and an md5 for files. */
const LIST = [
  'cd / && find . -xdev \\( -path ./proc -o -path ./sys -o -path ./dev -o -path ./etc/hosts -o -path ./etc/resolv.conf -o -path ./etc/hostname -o -path ./run \\) -prune -o -print | sort |',
  'while read -r p; do',
  '  if [ -f "$p" ] && [ ! -L "$p" ]; then sum="$(md5sum "$p" | cut -c1-32) links=$(stat -c %h "$p")"; else sum=-; fi;',
  '  echo "$(stat -c "%n %F %a %u %g %s %Y" "$p") $sum $( [ -L "$p" ] && readlink "$p" )";',
  'done',
].join(' ');

const CHANGES = [
  'set -e',
  'rm /bin/zcat',                                              // a deleted symlink → whiteout
  'rm -rf /home/tester && mkdir -p /home/tester/new && echo n > /home/tester/new/f', // replaced dir → opaque
  'echo data > /root/file && chmod 4755 /root/file',           // setuid
  'mkdir -m 1777 /sticky',                                     // sticky dir
  'echo shared > /root/a && ln /root/a /root/b',               // hardlinks
  'ln -s ../root/a /tmp/rel-link && ln -s /etc/passwd /tmp/abs-link',
  'echo owned > /tmp/owned && chown 1000:2000 /tmp/owned',
  'echo old > /tmp/dated && touch -d "2001-02-03 04:05:06" /tmp/dated',
  'chmod 700 /tmp',                                            // a mode change of an existing dir
  'echo appended >> /etc/passwd',                              // a modified file
  'rm /usr/bin/env && mkdir /usr/bin/env',                       // a symlink replaced by a dir
].join('\n');

describe('run engine diffs: the applied layer equals the container view', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  before(() => (tmp = tempDir('tsbuild-rundiff-')));
  after(() => tmp.cleanup());

  for (const runtime of ['crun', 'runc'] as const) {
    it(`with ${runtime}`, async () => {
      const base = makeBusyboxRootfs(join(tmp.path, `${runtime}-base`));
      const snapshotter = new OverlaySnapshotter(join(tmp.path, `${runtime}-store`));
      // The base as a committed snapshot (as unpack would make it).
      await snapshotter.prepare('base-tmp');
      await applyLayer(snapshotter.dir('base-tmp'), packDirectory(base), { whiteouts: 'overlay' });
      await snapshotter.commit('base', 'base-tmp');
      const rootfs = await snapshotter.prepare('step', 'base');

      const executor = await createExecutor({ runtime });
      const chunks: Buffer[] = [];
      const stdout = new Writable({ write(c, _e, cb) { chunks.push(c); cb(); } });
      const run = (args: string[], out?: Writable) =>
        executor.run(
          { rootfs, process: { args, env: ['PATH=/bin:/usr/bin:/sbin:/usr/sbin'], cwd: '/' }, mounts: [], network: 'none' },
          out ? { stdout: out, stderr: process.stderr } : { stderr: process.stderr },
        );
      expect((await run(['/bin/sh', '-c', CHANGES])).exitCode).to.equal(0);
      expect((await run(['/bin/sh', '-c', LIST], stdout)).exitCode).to.equal(0);
      const containerView = Buffer.concat(chunks).toString();

      const applied = join(tmp.path, `${runtime}-applied`);
      mkdirSync(applied);
      cpSync(base, applied, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      execFileSync('sh', ['-c', `cd ${base} && find . -exec touch -h -r {} ${applied}/{} \\;`]); // same mtimes as the base
      const lowerDirs = (rootfs[0]!.options.find((o) => o.startsWith('lowerdir=')) ?? 'lowerdir=').slice(9).split(':').filter(Boolean);
      await applyLayer(applied, packOverlayDiff({ upperDir: snapshotter.dir('step'), lowerDirs }), { whiteouts: 'apply' });
      const appliedView = execFileSync('chroot', [applied, '/bin/sh', '-c', LIST], { encoding: 'utf8' });

      expect(containerView.split('\n').length).to.be.greaterThan(250);
      // Normalized: the mtimes of `/` (a layer has no entry for the root) and of
      // /etc, where the listing run's own mount stubs (/etc/hosts…) touch it.
      const normalize = (view: string) => view.split('\n').map((l) => l.replace(/^(\.|\.\/etc) (directory \d+ \d+ \d+ \d+) \d+ /, '$1 $2 <mtime> '));
      const a = normalize(appliedView);
      const c = normalize(containerView);
      const differ = c.map((line, i) => (line === a[i] ? '' : `container: ${line}\napplied:   ${a[i]}`)).filter(Boolean);
      expect(differ.join('\n')).to.equal('');
      await snapshotter.remove('step');
    });
  }
});
