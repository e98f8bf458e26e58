/**
 * Issue 13, points 3–6, through the real binary (cli/bin/tsbuild.js, the
 * bundle: run `node scripts/bundle-cli.mjs` after changing src):
 * - every command's failure paths exit non-zero with one clear `error:` line
 *   and no stack trace (the stack only with --debug);
 * - a failed `load` tags nothing (a `../` layer entry, a truncated layer, an
 *   absurd entry size), with and without --no-unpack;
 * - a FIFO named as -f, --secret src, load -i, import's archive, or sitting in
 *   the context, never blocks (each spawn has a timeout that fails the test);
 * - control characters in a Dockerfile are escaped in the error and snippet.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { Header } from 'tar';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { mountsMentioning } from './run-support.js';

const bin = resolve(import.meta.dirname, '../bin/tsbuild.js');
const TIMEOUT_MS = 30_000;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function tsbuildBin(root: string, args: string[], cwd?: string): Run {
  // Executed as npm's bin link executes it: through its shell prologue.
  const r = spawnSync(bin, ['--root', root, ...args], { encoding: 'utf8', timeout: TIMEOUT_MS, killSignal: 'SIGKILL', ...(cwd ? { cwd } : {}) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT' };
}

/** Non-zero, exactly one `error:` line (or the guard's line), no stack trace, and what it says. */
function expectOneLineFailure(r: Run, message: RegExp): void {
  expect(r.timedOut, 'the command hung (killed after the timeout)').to.equal(false);
  expect(r.code).to.be.a('number').and.not.equal(0);
  const errors = r.stderr.split('\n').filter((l) => /^(error|tsbuild: internal error):/.test(l));
  expect(errors, r.stderr).to.have.length(1);
  expect(errors[0]).to.match(message);
  expect(r.stderr).to.not.match(/\n\s+at .+:\d+:\d+\)?\n/);
  expect(r.stderr).to.not.include('internal error');
}

function tarOf(entries: Array<{ path: string; body?: Buffer; size?: number; type?: 'File' | 'Directory' }>, { truncateTo }: { truncateTo?: number } = {}): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = e.body ?? Buffer.alloc(0);
    const block = Buffer.alloc(512);
    new Header({ path: e.path, mode: e.type === 'Directory' ? 0o755 : 0o644, size: e.size ?? body.length, type: e.type ?? 'File', mtime: new Date(0), uid: 0, gid: 0 }).encode(block, 0);
    blocks.push(block, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  const all = Buffer.concat(blocks);
  return truncateTo === undefined ? all : all.subarray(0, truncateTo);
}

/** `REPOSITORY:TAG` of every image `tsbuild images` lists. */
function tagsIn(root: string): string[] {
  const r = tsbuildBin(root, ['images']);
  expect(r.code, r.stderr).to.equal(0);
  return r.stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(':')).sort();
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A classic `docker save` archive of one image, `tag`, whose only layer is `layer` (its diff id computed, so only the layer's content is wrong). */
function dockerArchive(tag: string, layer: Buffer): Buffer {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha(layer)] } }));
  const manifest = Buffer.from(JSON.stringify([{ Config: 'config.json', RepoTags: [tag], Layers: ['layer/layer.tar'] }]));
  return tarOf([
    { path: 'config.json', body: config },
    { path: 'layer/', type: 'Directory' },
    { path: 'layer/layer.tar', body: layer },
    { path: 'manifest.json', body: manifest },
  ]);
}

describe('hostile and unlucky inputs end cleanly (issue 13)', function () {
  this.timeout(180_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  const p = (...parts: string[]) => join(tmp.path, ...parts);

  before(() => {
    tmp = tempDir('tsbuild-hostile-');
    root = p('store');
    const imported = tsbuildBin(root, ['import', makeBusyboxRootfs(p('rootfs')), '-t', 'busybox']);
    expect(imported.code, imported.stderr).to.equal(0);
    mkdirSync(p('ctx'));
    writeFileSync(p('ctx', 'Dockerfile'), 'FROM busybox\nRUN true\n');
    spawnSync('mkfifo', [p('fifo')]);
  });
  after(() => tmp.cleanup());

  describe('every command fails with one clear line (no stack without --debug)', () => {
    const cases: Array<[string, () => string[], RegExp]> = [
      ['an unknown command', () => ['frobnicate'], /^error: unknown command "frobnicate"/],
      ['build: an unknown flag', () => ['build', '--bogus', p('ctx')], /^error: unknown flag: --bogus$/],
      ['build: a later buildx flag', () => ['build', '--attest', 'type=sbom', p('ctx')], /^error: --attest is not supported yet$/],
      ['build: a bad --cache-to', () => ['build', '--cache-to', 'type=s3,bucket=b', p('ctx')], /^error: --cache-to: type=s3 is not supported \(registry, local, inline\)$/],
      ['build: a missing context', () => ['build', p('nowhere')], /^error: .*nowhere/],
      ['build: a missing Dockerfile', () => ['build', '-f', p('nope.Dockerfile'), p('ctx')], /cannot read the Dockerfile: no such file$/],
      ['build: a directory as -f', () => ['build', '-f', p('ctx'), p('ctx')], /cannot read the Dockerfile: .* is a directory, not a regular file$/],
      ['build: a missing base image', () => ['build', '-f', write('missing-base', 'FROM no-such-image:1\n'), p('ctx')], /no-such-image/],
      ['build: a bad archive in ADD', () => ['build', '--no-cache', badAddContext()], /archive entry "\.\.\/escape-gz" would be written outside the destination$/],
      ['build: a RUN that fails', () => ['build', '-f', write('fails', 'FROM busybox\nRUN exit 3\n'), p('ctx')], /exit code: 3|exited with 3|code 3/],
      ['build: an unwritable --iidfile', () => ['build', '--iidfile', p('no', 'such', 'dir', 'iid'), p('ctx')], /^error: cannot write .*iid: no such directory$/],
      ['run: a missing image', () => ['run', '--rm', 'no-such-image'], /no-such-image/],
      ['run: a FIFO as --env-file', () => ['run', '--rm', '--env-file', p('fifo'), 'busybox', 'true'], /the env file: .*fifo is a FIFO, not a regular file$/],
      ['images: an unknown flag', () => ['images', '--bogus'], /^error: unknown flag: --bogus$/],
      ['inspect: a missing image', () => ['inspect', 'no-such-image'], /no-such-image/],
      ['tag: a missing source', () => ['tag', 'no-such-image', 'x:1'], /no-such-image/],
      ['rmi: a missing image', () => ['rmi', 'no-such-image'], /no-such-image/],
      ['save: a missing image', () => ['save', '-o', p('out.tar'), 'no-such-image'], /no-such-image/],
      ['load: a missing file', () => ['load', '-i', p('nope.tar')], /nope\.tar/],
      ['load: not an archive', () => ['load', '-i', write('garbage.tar', 'this is not a tar archive at all\n'.repeat(40))], /^error: /],
      ['import: a missing source', () => ['import', p('nope-rootfs'), '-t', 'x'], /nope-rootfs/],
      ['rm: a missing container', () => ['rm', 'no-such-container'], /no-such-container/],
      ['prune: a bad --grace', () => ['prune', '--grace', 'soon'], /^error: --grace wants a number of seconds, not "soon"$/],
    ];
    for (const [name, args, message] of cases) {
      it(name, () => expectOneLineFailure(tsbuildBin(root, args()), message));
    }

    it('a bad archive in ADD over a base image leaves no overlay mounted', () => {
      expectOneLineFailure(tsbuildBin(root, ['build', '--no-cache', badAddContext()]), /would be written outside the destination$/);
      expect(mountsMentioning(tmp.path)).to.deep.equal([]);
    });

    it('--debug adds the stack to the same first line', () => {
      const r = tsbuildBin(root, ['--debug', 'inspect', 'no-such-image']);
      expect(r.code).to.equal(1);
      expect(r.stderr.split('\n')[0]).to.match(/^error: .*no-such-image/);
      expect(r.stderr).to.match(/\n\s+at /);
    });
  });

  describe('a failed load tags nothing (point 4)', () => {
    const layers: Array<[string, () => Buffer, RegExp]> = [
      ['a ../ layer entry', () => tarOf([{ path: 'ok', body: Buffer.from('ok\n') }, { path: '../escape', body: Buffer.from('pwned\n') }]), /\.\./],
      ['an inner truncation', () => tarOf([{ path: 'big', body: Buffer.alloc(64 * 1024, 1) }], { truncateTo: 512 + 10_000 }), /truncat/i],
      ['an absurd entry size', () => tarOf([{ path: 'huge', size: 8 * 1024 ** 3 - 1, body: Buffer.from('x') }]), /truncat|size|end/i],
    ];
    for (const [name, layer, message] of layers) {
      for (const unpack of [true, false]) {
        it(`${name}${unpack ? '' : ' (--no-unpack)'}`, () => {
          const tag = `bad-${name.replace(/[^a-z]+/g, '-')}-${unpack ? 'u' : 'n'}:1`.replace(/-+/g, '-');
          const archive = write(`${tag.replace(':', '_')}.tar`, dockerArchive(tag, layer()));
          const before = tagsIn(root);
          const r = tsbuildBin(root, ['load', ...(unpack ? [] : ['--no-unpack']), '-i', archive]);
          expectOneLineFailure(r, message);
          expect(r.stdout).to.not.include('Loaded image');
          expect(tagsIn(root)).to.deep.equal(before);
          expect(tsbuildBin(root, ['inspect', tag]).code).to.not.equal(0);
        });
      }
    }

    it('a good archive still loads and tags (the check passes a sound layer)', () => {
      const archive = write('good.tar', dockerArchive('good-load:1', tarOf([{ path: 'etc/', type: 'Directory' }, { path: 'etc/hello', body: Buffer.from('hi\n') }])));
      for (const flags of [[], ['--no-unpack']]) {
        const r = tsbuildBin(root, ['load', ...flags, '-i', archive]);
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stdout).to.equal('Loaded image: good-load:1\n');
      }
      expect(tsbuildBin(root, ['images']).stdout).to.include('good-load');
    });
  });

  describe('a FIFO where a file is expected never blocks (point 5)', () => {
    it('as -f', () => expectOneLineFailure(tsbuildBin(root, ['build', '-f', p('fifo'), p('ctx')]), /cannot read the Dockerfile: .*fifo is a FIFO, not a regular file$/));
    it('as --secret src', () => {
      const df = write('secret.Dockerfile', 'FROM busybox\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\n');
      expectOneLineFailure(tsbuildBin(root, ['build', '--no-cache', '-f', df, '--secret', `id=tok,src=${p('fifo')}`, p('ctx')]), /secret tok: .*fifo is a FIFO, not a regular file$/);
    });
    it('as load -i', () => expectOneLineFailure(tsbuildBin(root, ['load', '-i', p('fifo')]), /the archive: .*fifo is a FIFO, not a regular file$/));
    it('as import FILE', () => expectOneLineFailure(tsbuildBin(root, ['import', p('fifo'), '-t', 'x']), /the archive to import: .*fifo is a FIFO, not a regular file$/));
    it('inside the context: COPY . recreates it as a FIFO without reading it', () => {
      // BuildKit never reads one either: fsutil's copy (copy/copy.go calls copyDevice, in
      // copy_nowindows.go) and the context receiver (diskwriter.go calls handleTarTypeBlockCharFifo,
      // in diskwriter_unix.go) recreate FIFOs with mknod.
      const ctx = p('fifo-ctx');
      mkdirSync(ctx);
      spawnSync('mkfifo', [join(ctx, 'pipe')]);
      writeFileSync(join(ctx, 'a'), 'a\n');
      writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY . /c/\nRUN [ "$(cat /c/a)" = a ] && [ -p /c/pipe ]\n');
      const r = tsbuildBin(root, ['build', '--no-cache', ctx]);
      expect(r.timedOut, 'the build hung on the FIFO').to.equal(false);
      expect(r.code, r.stderr).to.equal(0);
    });
  });

  it('control characters in a Dockerfile are escaped in the error and the snippet (point 6)', () => {
    const df = write('ctl.Dockerfile', 'FROM busybox\nFROBNICATE \x1b]0;pwned\x07 \x1b[2J now\n');
    const r = tsbuildBin(root, ['build', '-f', df, p('ctx')]);
    expectOneLineFailure(r, /unknown instruction: FROBNICATE/);
    expect(r.stderr + r.stdout).to.not.match(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(r.stderr).to.include('FROBNICATE \\x1b]0;pwned\\x07 \\x1b[2J now');
  });

  it("a failing step's output is escaped in the error summary (point 6)", () => {
    const df = write('ctl-run.Dockerfile', 'FROM busybox\nRUN printf "\\033]0;pwned\\007\\033[2J\\n"; exit 3\n');
    const r = tsbuildBin(root, ['build', '--no-cache', '--progress', 'quiet', '-f', df, p('ctx')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.not.match(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(r.stderr).to.include('\\x1b]0;pwned\\x07\\x1b[2J');
  });

  it('plain progress escapes the Dockerfile text in step names (point 6)', () => {
    const df = write('ctl-name.Dockerfile', 'FROM busybox\nRUN echo hi # \x1b]0;pwned\x07\n');
    const r = tsbuildBin(root, ['build', '--no-cache', '--progress', 'plain', '-f', df, p('ctx')]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include('RUN echo hi # \\x1b]0;pwned\\x07\n');
    expect(r.stderr).to.not.match(/[\x00-\x08\x0b-\x1f\x7f]/);
  });

  function write(name: string, content: string | Buffer): string {
    writeFileSync(p(name), content);
    return p(name);
  }

  function badAddContext(): string {
    const dir = p('bad-add');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'bad.tar.gz'), gzipSync(tarOf([{ path: 'ok.bin', body: Buffer.alloc(256 * 1024, 7) }, { path: '../escape-gz', body: Buffer.from('pwned\n') }])));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM busybox\nADD bad.tar.gz /d/\n');
    return dir;
  }
});
