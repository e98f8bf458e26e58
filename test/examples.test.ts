/**
 * Every example in examples/Dockerfiles/ is built and its image run, as a user
 * would: `tsbuild build --progress plain …` then `tsbuild run --rm …`, each
 * run checked for the exact output the example prints, plus the checks that
 * make the example's point (the secret is in no layer, the image config holds
 * what the Dockerfile set, the .dockerignore lets exactly these files through,
 * COPY --link layers survive a change below them …). Then each is rebuilt and
 * must be fully cached.
 *
 * One store for the file. Base images are made here as the docs say (no
 * Docker Hub): busybox:latest from Debian's busybox-static
 * (scripts/make-busybox-rootfs.sh), debian:bookworm by
 * scripts/make-debian-base.sh (debootstrap, cached outside the repository
 * after the first run). RUN steps reach Debian's mirror and the npm registry
 * over the host's network.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { tsbuild, type CliResult } from '../cli/test/support.js';
import { makeBusyboxRootfs, tempDir } from './support/fixtures.js';

const execFileP = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLES = join(repoRoot, 'examples/Dockerfiles');

/** One `tsbuild build`: the image's tag, the context (an example directory, or a directory in it), extra flags. */
interface BuildSpec {
  tag: string;
  context?: string;
  flags?: string[];
}

/** One `tsbuild run --rm IMAGE ARGS…` and its exact stdout (or a pattern for it). */
interface RunSpec {
  image: string;
  args?: string[];
  stdout: string | RegExp;
}

interface ExampleSpec {
  name: string;
  base: 'busybox' | 'debian';
  builds: BuildSpec[];
  runs: RunSpec[];
  /** The example's own checks, after its builds and runs. */
  check?: (t: Ctx) => Promise<void>;
}

interface Ctx {
  root: string;
  tmp: string;
  /** Build logs (stderr of `--progress plain`) by tag, from the first build. */
  logs: Map<string, string>;
}

/** The secret the secrets example is built with (random per run, so finding it anywhere is a leak). */
const SECRET = `tok-${randomBytes(12).toString('hex')}`;

/** The CA bundle this machine's own tools trust, for the node-app example's npm ci. */
const hostCaBundle = [process.env.NODE_EXTRA_CA_CERTS, process.env.SSL_CERT_FILE, '/etc/ssl/certs/ca-certificates.crt'].find((f) => f && existsSync(f));

const EXAMPLES_SPEC: ExampleSpec[] = [
  {
    name: 'hello',
    base: 'busybox',
    builds: [{ tag: 'hello' }],
    runs: [
      { image: 'hello', stdout: 'hello, world\n' },
      { image: 'hello', args: ['examples'], stdout: 'hello, examples\n' },
    ],
  },
  {
    name: 'multistage',
    base: 'busybox',
    builds: [{ tag: 'multistage' }],
    runs: [{ image: 'multistage', stdout: 'alpha\nbeta\n' }],
    async check(t) {
      // Both independent stages were built (the solver runs them in parallel).
      expect(t.logs.get('multistage')).to.match(/^#\d+ \[numbers 2\/2\] RUN /m).and.to.match(/^#\d+ \[words 2\/2\] RUN /m);
    },
  },
  {
    name: 'heredocs',
    base: 'busybox',
    builds: [{ tag: 'heredocs' }],
    runs: [{ image: 'heredocs', stdout: 'heredocs v1.4.0: sum of 1+2+3+4+5 = 15\na=1\nb=2\n' }],
    async check(t) {
      const ls = await run(t, ['heredocs', 'sh', '-c', 'stat -c "%a %n" /app/run.sh /app/version /app/etc/a.conf /app/etc/b.conf; cat /app/etc/greeting']);
      expect(ls).to.equal('755 /app/run.sh\n644 /app/version\n644 /app/etc/a.conf\n644 /app/etc/b.conf\nhello from a tab-indented heredoc\n');
    },
  },
  {
    name: 'secrets',
    base: 'busybox',
    builds: [{ tag: 'secrets', flags: ['--secret', 'id=token,src=@TOKEN@'] }],
    runs: [{ image: 'secrets', stdout: `token: ${SECRET.length} bytes\nenv and file agree\nnetrc: not given\n` }],
    async check(t) {
      // Not in the build output, the image config or history, nor in any file of the image.
      expect(t.logs.get('secrets')).not.to.include(SECRET);
      const inspect = await cli(t, 'inspect', 'secrets');
      expect(inspect).not.to.include(SECRET);
      const rootfsTar = join(t.tmp, 'secrets-rootfs.tar');
      const exported = await tsbuild(t.root, 'build', '-q', '--secret', `id=token,src=${tokenFile(t)}`, '-o', `type=tar,dest=${rootfsTar}`, join(EXAMPLES, 'secrets'));
      expect(exported.code, exported.stderr).to.equal(0);
      const tar = readFileSync(rootfsTar);
      expect(tar.length).to.be.greaterThan(1 << 20); // busybox is in it
      expect(tar.includes(SECRET), 'the secret is in the image filesystem').to.equal(false);
      expect(tar.includes(Buffer.from(SECRET, 'utf8').toString('base64')), 'the secret is in the image filesystem (base64)').to.equal(false);
      // `required`: without the secret the build fails at that step.
      const without = await tsbuild(t.root, 'build', '--progress', 'plain', '--no-cache', join(EXAMPLES, 'secrets'));
      expect(without.code).to.equal(1);
      expect(without.stderr).to.match(/token/);
    },
  },
  {
    name: 'onbuild',
    base: 'busybox',
    builds: [
      { tag: 'onbuild-base', context: 'parent' },
      { tag: 'onbuild-site' },
    ],
    runs: [{ image: 'onbuild-site', stdout: 'site docs: 3 files\n./about.html\n./css/site.css\n./index.html\n' }],
    async check(t) {
      const parent = await config(t, 'onbuild-base');
      expect(parent.OnBuild).to.deep.equal(['COPY site/ /srv/site/', 'RUN [ -f /srv/site/index.html ] && find . -type f | sort > /srv/manifest']);
      // Triggers fire once: the child does not pass them on.
      expect((await config(t, 'onbuild-site')).OnBuild ?? []).to.deep.equal([]);
      expect(t.logs.get('onbuild-site')).to.match(/COPY site\/ \/srv\/site\//);
    },
  },
  {
    name: 'args-env',
    base: 'busybox',
    builds: [
      { tag: 'args-env', flags: ['--build-arg', 'APP_VERSION=2.0.0', '--build-arg', 'BUILD_ENV=production', '--build-arg', 'BUILD_ID=ci-42'] },
      { tag: 'args-env:defaults' },
    ],
    runs: [
      { image: 'args-env', stdout: 'banner: app 2.0.0 (production)\nlog level: info\nbuild id: ci-42\nBUILD_ID in the environment: no\n' },
      { image: 'args-env:defaults', stdout: 'banner: app 1.0.0 (development)\nlog level: info\nbuild id: local\nBUILD_ID in the environment: no\n' },
      { image: 'args-env', args: ['sh', '-c', 'echo $PATH'], stdout: '/opt/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n' },
    ],
    async check(t) {
      const env: string[] = (await config(t, 'args-env')).Env;
      expect(env).to.include.members(['APP_VERSION=2.0.0', 'APP_ENV=production', 'APP_HOME=/opt/app', 'LOG_LEVEL=info', 'APP_BANNER=app 2.0.0 (production)']);
      expect(env.filter((e) => e.startsWith('BUILD_'))).to.deep.equal([]);
    },
  },
  {
    name: 'config',
    base: 'busybox',
    builds: [{ tag: 'config-example' }],
    runs: [{ image: 'config-example', args: ['info'], stdout: 'user: app (1001:1001)\ncwd: /srv/app\ndata: fresh, writable\n' }],
    async check(t) {
      const c = await config(t, 'config-example');
      expect(c.User).to.equal('app');
      expect(c.WorkingDir).to.equal('/srv/app');
      expect(c.ExposedPorts).to.deep.equal({ '8080/tcp': {} });
      expect(c.Volumes).to.deep.equal({ '/srv/app/data': {} });
      expect(c.Healthcheck).to.deep.equal({
        Test: ['CMD-SHELL', 'wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1'],
        Interval: 30e9, Timeout: 3e9, StartPeriod: 5e9, Retries: 3,
      });
      expect(c.StopSignal).to.equal('SIGTERM');
      expect(c.Entrypoint).to.deep.equal(['./server.sh']);
      expect(c.Cmd).to.deep.equal(['serve']);
      expect(c.Labels['org.opencontainers.image.title']).to.equal('config-example');
    },
  },
  {
    name: 'copy-link',
    base: 'busybox',
    builds: [
      { tag: 'copy-link', flags: ['--build-arg', 'RELEASE=1'] },
      { tag: 'copy-link:2', flags: ['--build-arg', 'RELEASE=2'] },
    ],
    runs: [
      { image: 'copy-link', stdout: 'linktool 3.1 on release 1: files copied with --link\n' },
      { image: 'copy-link:2', stdout: 'linktool 3.1 on release 2: files copied with --link\n' },
    ],
    async check(t) {
      // The change below (RELEASE) rebuilt the RUN, but the two --link layers were reused as they were.
      // The last RUN only checks, so its layer is the empty tar (BuildKit keeps it too).
      const one: string[] = (await rawConfig(t, 'copy-link')).rootfs.diff_ids;
      const two: string[] = (await rawConfig(t, 'copy-link:2')).rootfs.diff_ids;
      expect(one).to.have.length(5);
      expect(one[4]).to.equal('sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef');
      expect(two.slice(0, 1)).to.deep.equal(one.slice(0, 1));
      expect(two[1]).not.to.equal(one[1]);
      expect(two.slice(2)).to.deep.equal(one.slice(2));
      expect(t.logs.get('copy-link:2')).to.match(/^#\d+ \[stage-1 3\/5\] COPY --link --from=build .*\(link\)\n#\d+ CACHED$/m);
    },
  },
  {
    name: 'dockerignore',
    base: 'busybox',
    builds: [{ tag: 'dockerignore' }],
    runs: [{ image: 'dockerignore', stdout: './app/lib/util.sh\n./app/main.sh\n./docs/LICENSE\n./logs/release.log\n' }],
    async check(t) {
      // Excluded files are not even read: changing them invalidates nothing; changing a kept one does.
      const ctx = join(t.tmp, 'dockerignore-ctx');
      cpSync(join(EXAMPLES, 'dockerignore'), ctx, { recursive: true });
      const first = await tsbuild(t.root, 'build', '--progress', 'plain', ctx);
      expect(first.code, first.stderr).to.equal(0);
      writeFileSync(join(ctx, 'docs/guide.md'), 'changed\n');
      writeFileSync(join(ctx, '.env'), 'API_KEY=changed\n');
      writeFileSync(join(ctx, 'logs/debug.log'), 'changed\n');
      const ignored = await tsbuild(t.root, 'build', '--progress', 'plain', ctx);
      expect(ignored.code, ignored.stderr).to.equal(0);
      expect(ignored.stderr).to.match(/FINISHED in [\d.]+s: (\d+) steps?, \1 cached/);
      writeFileSync(join(ctx, 'docs/LICENSE'), 'Apache-2.0\n');
      const kept = await tsbuild(t.root, 'build', '--progress', 'plain', ctx);
      expect(kept.code, kept.stderr).to.equal(0);
      expect(kept.stderr, kept.stderr).to.match(/^#\d+ rebuilding: file "docs\/LICENSE" changed$/m);
    },
  },
  {
    name: 'static-c',
    base: 'debian',
    builds: [{ tag: 'static-c' }],
    runs: [
      { image: 'static-c', stdout: 'hello, world, from a static binary (uid 65534)\n' },
      { image: 'static-c', args: ['scratch'], stdout: 'hello, scratch, from a static binary (uid 65534)\n' },
    ],
    async check(t) {
      // FROM scratch + one COPY: one small layer, nothing of Debian or gcc.
      const raw = await rawConfig(t, 'static-c');
      expect(raw.rootfs.diff_ids).to.have.length(1);
      expect(raw.config.User).to.equal('65534:65534');
      const [info] = JSON.parse(await cli(t, 'inspect', 'static-c'));
      expect(info.Size).to.be.below(1 << 20);
      // The apt cache mount kept the downloaded packages (docker-clean was removed).
      expect(t.logs.get('static-c')).to.match(/gcc \(Debian 12/);
    },
  },
  {
    name: 'python-app',
    base: 'debian',
    builds: [
      { tag: 'python-app:test', flags: ['--target', 'test'] },
      { tag: 'python-app' },
    ],
    runs: [
      { image: 'python-app:test', stdout: /^test_counts_case_insensitively .* ok$[\s\S]*^Ran 4 tests in [\d.]+s\n\nOK\n$/m },
      { image: 'python-app', stdout: 'the 3\nand 2\nbat 1\n' },
      { image: 'python-app', args: ['--top', '1', 'to be or not to be'], stdout: 'be 2\n' },
    ],
    async check(t) {
      // The default target does not depend on the test stage: no tests run, none shipped.
      expect(t.logs.get('python-app')).not.to.match(/\[test /);
      expect(await run(t, ['--entrypoint', 'ls', 'python-app', '/app'])).to.equal('wordfreq\n');
      expect((await config(t, 'python-app')).User).to.equal('nobody');
    },
  },
  {
    name: 'node-app',
    base: 'debian',
    // Behind a TLS-intercepting proxy (as in this project's CI) npm needs the proxy's CA: the example takes it as an optional secret.
    builds: [{ tag: 'node-app', flags: hostCaBundle ? ['--secret', `id=extra-ca,src=${hostCaBundle}`] : [] }],
    runs: [
      { image: 'node-app', stdout: /^90s = 90000 ms = 2 minutes\n2 days = 172800000 ms = 2 days\nnode v18\.\d+\.\d+, ms 2\.1\.3\n$/ },
      { image: 'node-app', args: ['node', 'app.js', '1h'], stdout: /^1h = 3600000 ms = 1 hour\n/ },
    ],
    async check(t) {
      // npm's download cache and logs went to the cache mount, not into the image.
      expect(await run(t, ['-u', '0', 'node-app', 'sh', '-c', 'find /root/.npm -type f | wc -l; ls /app/node_modules'])).to.equal('0\nms\n');
    },
  },
];

let ctx: Ctx;
function tokenFile(t: Ctx): string {
  return join(t.tmp, 'token');
}

async function cli(t: Ctx, ...argv: string[]): Promise<string> {
  const r = await tsbuild(t.root, ...argv);
  expect(r.code, `tsbuild ${argv.join(' ')}: ${r.stderr}`).to.equal(0);
  return r.stdout;
}

async function run(t: Ctx, argv: string[]): Promise<string> {
  return cli(t, 'run', '--rm', ...argv);
}

async function rawConfig(t: Ctx, ref: string): Promise<any> {
  return JSON.parse(await cli(t, 'inspect', ref))[0].Config;
}

async function config(t: Ctx, ref: string): Promise<any> {
  return (await rawConfig(t, ref)).config;
}

async function build(t: Ctx, spec: BuildSpec, flags: string[], example: string): Promise<CliResult & { seconds: number }> {
  const context = join(EXAMPLES, example, spec.context ?? '');
  const started = performance.now();
  const r = await tsbuild(t.root, 'build', '--progress', 'plain', '-t', spec.tag, ...flags, context);
  const seconds = (performance.now() - started) / 1000;
  expect(r.code, `tsbuild build -t ${spec.tag} ${flags.join(' ')}:\n${r.stderr.slice(-6000)}`).to.equal(0);
  return { ...r, seconds };
}

describe('examples/Dockerfiles: every example builds and runs', function () {
  let tmp: ReturnType<typeof tempDir>;

  before(async function () {
    this.timeout(120_000);
    tmp = tempDir('tsbuild-examples-');
    ctx = { root: join(tmp.path, 'store'), tmp: tmp.path, logs: new Map() };
    writeFileSync(tokenFile(ctx), SECRET);
    const imported = await tsbuild(ctx.root, 'import', makeBusyboxRootfs(join(tmp.path, 'busybox')), '-t', 'busybox:latest', '--change', 'CMD ["sh"]');
    expect(imported.code, imported.stderr).to.equal(0);
  });
  after(() => tmp?.cleanup());

  it('every directory in examples/Dockerfiles has a spec here, and there are at least 12', () => {
    const dirs = readdirSync(EXAMPLES, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    expect(dirs).to.deep.equal(EXAMPLES_SPEC.map((e) => e.name).sort());
    expect(dirs.length).to.be.at.least(12);
    for (const d of dirs) expect(existsSync(join(EXAMPLES, d, 'Dockerfile')), d).to.equal(true);
  });

  const defineExample = (spec: ExampleSpec) => {
    it(`${spec.name}: builds, runs, rebuilds from the cache`, async function () {
      this.timeout(spec.base === 'debian' ? 900_000 : 180_000);
      const times: string[] = [];
      for (const b of spec.builds) {
        const flags = (b.flags ?? []).map((f) => f.replace('@TOKEN@', tokenFile(ctx)));
        const r = await build(ctx, b, flags, spec.name);
        ctx.logs.set(b.tag, r.stderr);
        times.push(`${b.tag} ${r.seconds.toFixed(1)}s`);
      }
      for (const r of spec.runs) {
        const out = await run(ctx, [r.image, ...(r.args ?? [])]);
        if (typeof r.stdout === 'string') expect(out, `tsbuild run --rm ${r.image} ${(r.args ?? []).join(' ')}`).to.equal(r.stdout);
        else expect(out, `tsbuild run --rm ${r.image} ${(r.args ?? []).join(' ')}`).to.match(r.stdout);
      }
      await spec.check?.(ctx);
      // The same builds again: every step from the cache.
      for (const b of spec.builds) {
        const flags = (b.flags ?? []).map((f) => f.replace('@TOKEN@', tokenFile(ctx)));
        const r = await build(ctx, b, flags, spec.name);
        expect(r.stderr, `rebuild of ${b.tag}`).to.match(/FINISHED in [\d.]+s: (\d+) steps?, \1 cached/);
        times.push(`${b.tag} cached ${r.seconds.toFixed(1)}s`);
      }
      console.log(`      built ${times.join(', ')}`);
    });
  };

  describe('on busybox:latest', () => {
    for (const spec of EXAMPLES_SPEC.filter((e) => e.base === 'busybox')) defineExample(spec);
  });

  describe('on debian:bookworm (scripts/make-debian-base.sh)', () => {
    before(async function () {
      // debootstrap on the first run on a machine (minutes), then from its cached tarball.
      this.timeout(900_000);
      const started = performance.now();
      const rootfs = join(ctx.tmp, 'debian');
      await execFileP('bash', [join(repoRoot, 'scripts/make-debian-base.sh'), '--rootfs-only', rootfs], { maxBuffer: 16 << 20 });
      const imported = await tsbuild(ctx.root, 'import', rootfs, '-t', 'debian:bookworm', '--change', 'CMD ["bash"]');
      expect(imported.code, imported.stderr).to.equal(0);
      await execFileP('rm', ['-rf', rootfs]);
      console.log(`      debian:bookworm made in ${((performance.now() - started) / 1000).toFixed(1)}s`);
    });
    it('debian:bookworm: apt points at the reachable mirror; apt config as in Docker Hub\'s image', async () => {
      const out = await run(ctx, ['debian:bookworm', 'sh', '-c', 'cat /etc/apt/sources.list.d/debian.sources; ls /etc/apt/apt.conf.d; ls -A /var/lib/apt/lists; ls /dev | wc -l']);
      expect(out).to.match(/^URIs: https?:\/\/\S+\/debian\nSuites: bookworm bookworm-updates$/m);
      expect(out).to.match(/^URIs: https?:\/\/\S+\/debian-security\nSuites: bookworm-security$/m);
      expect(out).to.include('docker-clean\n').and.to.include('docker-no-languages\n');
      expect(out).to.match(/^partial\n\d+\n$/m); // no package lists in the image
    });
    for (const spec of EXAMPLES_SPEC.filter((e) => e.base === 'debian')) defineExample(spec);
  });
});
