import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { PassThrough } from 'node:stream';
import { main } from '../src/main.js';
import { tsbuild } from './support.js';

describe('tsbuild build end to end (busybox, crun)', function () {
  this.timeout(300_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;

  before(async () => {
    tmp = tempDir('tsbuild-build-e2e-');
    root = join(tmp.path, 'store');
    const imported = await tsbuild(root, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'busybox:latest');
    expect(imported.code, imported.stderr).to.equal(0);
  });
  after(() => tmp.cleanup());

  it('builds the hello example with plain progress, then hits the cache', async () => {
    const iidfile = join(tmp.path, 'iid');
    const metadataFile = join(tmp.path, 'meta.json');
    const first = await tsbuild(root, 'build', '-t', 'hello', '--progress', 'plain', '--iidfile', iidfile, '--metadata-file', metadataFile, 'examples/Dockerfiles/hello');
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.equal('');
    expect(first.stderr).to.match(/^#1 \[/m);
    expect(first.stderr).to.match(/^#\d+ DONE \d+\.\ds$/m);
    expect(first.stderr).to.match(/^#\d+ naming to .*hello:latest.* done$/m);
    expect(first.stderr).to.match(/FINISHED in \d+\.\ds: \d+ steps/);

    const iid = readFileSync(iidfile, 'utf8');
    expect(iid).to.match(/^sha256:[a-f0-9]{64}$/);
    const meta = JSON.parse(readFileSync(metadataFile, 'utf8'));
    expect(meta['containerimage.config.digest']).to.equal(iid);
    expect(meta['containerimage.digest']).to.match(/^sha256:/);
    expect(meta['image.name']).to.match(/hello:latest/);
    const inspect = JSON.parse((await tsbuild(root, 'inspect', 'hello')).stdout);
    expect(inspect[0].Digest).to.equal(meta['containerimage.digest']);

    const second = await tsbuild(root, 'build', '-t', 'hello', '--progress', 'plain', 'examples/Dockerfiles/hello');
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stderr).to.match(/^#\d+ CACHED$/m);
    expect(second.stderr).not.to.match(/rebuilding:/);
  });

  it('prune keeps what the build cache names (it passes the cache as a GC root provider): an untagged rebuild is fully cached', async () => {
    const dir = join(tmp.path, 'prune-ctx');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox:latest\nCOPY a.txt /a.txt\nRUN echo "ran-the-$((1+1))-step" && cp /a.txt /b.txt\n');
    writeFileSync(join(dir, 'a.txt'), 'kept\n');
    const first = await tsbuild(root, 'build', '--progress', 'plain', dir);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stderr).to.match(/ran-the-2-step/);
    const pruned = await tsbuild(root, 'prune', '--grace', '0');
    expect(pruned.code, pruned.stderr).to.equal(0);
    const usage = JSON.parse((await tsbuild(root, 'du', '--format', 'json')).stdout) as Array<{ kind: string; count: number; reclaimableBytes: number }>;
    expect(usage.find((u) => u.kind === 'cache')?.count).to.be.greaterThan(0);
    const out = join(tmp.path, 'prune-out');
    const second = await tsbuild(root, 'build', '--progress', 'plain', '-o', `type=local,dest=${out}`, dir);
    expect(second.code, second.stderr).to.equal(0);
    expect(second.stderr).not.to.match(/ran-the-2-step/);
    expect(readFileSync(join(out, 'b.txt'), 'utf8')).to.equal('kept\n');
    expect((await tsbuild(root, 'fsck')).code).to.equal(0);
  });

  it('-q prints only the image digest; --trace and --report are written', async () => {
    const trace = join(tmp.path, 'trace.json');
    const report = join(tmp.path, 'report.html');
    const r = await tsbuild(root, 'build', '-q', '--trace', trace, '--report', report, 'examples/Dockerfiles/hello');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^sha256:[a-f0-9]{64}\n$/);
    expect(r.stderr).to.equal('');
    expect(JSON.parse(readFileSync(trace, 'utf8')).traceEvents.length).to.be.greaterThan(1);
    const html = readFileSync(report, 'utf8');
    expect(html).to.include('COPY greet.sh');
    expect(html).not.to.match(/https?:/);
  });

  it('explains a rebuild and fails a broken step with exit 1 and its output', async () => {
    const dir = join(tmp.path, 'ctx');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox:latest\nCOPY a.txt /a.txt\nRUN cat /a.txt && echo "oops" >&2 && exit 3\n');
    writeFileSync(join(dir, 'a.txt'), 'one\n');
    const first = await tsbuild(root, 'build', '--progress', 'plain', dir);
    expect(first.code).to.equal(1);
    expect(first.stderr).to.match(/^#\d+ \d+\.\d{3} one$/m);
    expect(first.stderr).to.match(/^#\d+ ERROR: /m);
    expect(first.stderr).to.match(/^error: .*exit code: 3/m);
    expect(first.stderr).to.match(/oops/);
    writeFileSync(join(dir, 'a.txt'), 'two\n');
    const report = join(tmp.path, 'failed-report.html');
    const second = await tsbuild(root, 'build', '--progress', 'plain', '--report', report, dir);
    expect(second.code).to.equal(1);
    expect(second.stderr).to.match(/^#\d+ rebuilding: file "a.txt" changed$/m);
    // The report has the failing command's output in its own section; "why it ran" only says why.
    const html = readFileSync(report, 'utf8');
    const section = html.slice(html.indexOf('<h2 class="failed">'));
    expect(section).to.match(/^<h2 class="failed">#\d+ \[3\/3\] RUN cat \/a.txt &amp;&amp; echo &quot;oops&quot;/);
    expect(section).to.match(/<pre class="output">[^<]*two\n[^<]*oops[^<]*<\/pre>|<pre class="output">[^<]*oops\n[^<]*two[^<]*<\/pre>/);
    expect(html).to.match(/<td class="why">file &quot;a.txt&quot; changed<\/td>/);
    const ticks = [...html.matchAll(/<text class="tick"[^>]*>(\d+(?:\.\d+)?)(ms|s)<\/text>/g)].map((m) => Number(m[1]) * (m[2] === 's' ? 1000 : 1));
    expect(ticks.length).to.be.at.least(3);
    ticks.slice(1).forEach((t, i) => expect(t).to.be.greaterThan(ticks[i]!));
  });

  it('Ctrl-C while a step runs: exit 130 and a consistent store', async () => {
    const dir = join(tmp.path, 'slow');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox:latest\nRUN echo started && sleep 600\n');
    const controller = new AbortController();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stdout.resume();
    stderr.on('data', (c: Buffer) => {
      err += c.toString();
      if (/^#\d+ \d+\.\d{3} started$/m.test(err)) controller.abort(new Error('interrupted (SIGINT)'));
    });
    const code = await main(['--root', root, 'build', '--progress', 'plain', dir], { stdout: stdout as never, stderr: stderr as never, signal: controller.signal });
    expect(code, err).to.equal(130);
    const fsck = await tsbuild(root, 'fsck');
    expect(fsck.code, fsck.stdout + fsck.stderr).to.equal(0);
  });
});
