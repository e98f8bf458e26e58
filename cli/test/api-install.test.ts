/**
 * The README's "From Node" section, done as a user outside the repository does
 * it: `npm run pack` writes one tarball per workspace package, a fresh project
 * in a temp directory installs them with npm (third-party dependencies from the
 * registry or npm's cache, the native ones built by their install scripts), and
 * the README's ```ts example, extracted from README.md so the two cannot drift,
 * runs there against a store holding a busybox base.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { tsbuild } from './support.js';

const run = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The first ```ts block after the README's "### From Node" heading. */
function readmeExample(): string {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### From Node'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README.md: no ```ts block under "### From Node"');
  return match[1];
}

describe('the API installed into another project from packed tarballs', function () {
  this.timeout(300_000);
  let tmp: ReturnType<typeof tempDir>;
  after(() => tmp?.cleanup());

  it('npm installs the tarballs and runs the README example verbatim', async () => {
    tmp = tempDir('tsbuild-api-install-');
    const packs = join(tmp.path, 'packs');
    const project = join(tmp.path, 'project');
    const root = join(tmp.path, 'store');
    // A child Node must not inherit mocha's tsx loader or the tsbuild-source condition.
    const env = { ...process.env, NODE_OPTIONS: '' };

    await run('bash', [join(repoRoot, 'scripts/pack.sh'), packs], { cwd: repoRoot, env });
    const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz'));
    expect(tarballs).to.include('tsbuild-0.1.0.tgz');
    expect(tarballs).to.include('tsbuild-runtime-0.1.0.tgz');

    cpSync(join(repoRoot, 'examples/Dockerfiles/hello'), join(project, 'examples/Dockerfiles/hello'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'api-user', private: true, type: 'module' }));
    // The README's commands: allow the native dependencies' install scripts, install the tarballs.
    await run('npm', ['pkg', 'set', 'allowScripts.zstd-napi=true', 'allowScripts.fs-xattr=true', '--json'], { cwd: project, env });
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs.map((f) => join(packs, f))], {
      cwd: project,
      env,
    });

    expect((await tsbuild(root, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'busybox:latest')).code).to.equal(0);
    const script = [
      `const root = ${JSON.stringify(root)};`,
      readmeExample(),
      'console.log(JSON.stringify({ digest: result.digest, configDigest: result.configDigest, tags: result.tags, steps }));',
    ].join('\n');
    writeFileSync(join(project, 'example.ts'), script);
    // tsx only strips the example's types; 'tsbuild' resolves from the project's node_modules.
    const { stdout } = await run(process.execPath, [join(repoRoot, 'node_modules/tsx/dist/cli.mjs'), 'example.ts'], { cwd: project, env });
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(out.tags).to.deep.equal(['hello:api']);
    expect(out.digest).to.match(/^sha256:[a-f0-9]{64}$/);
    expect(out.steps.some((s: string) => s.includes('RUN chmod +x greet.sh'))).to.equal(true);
    const inspect = JSON.parse((await tsbuild(root, 'inspect', 'hello:api')).stdout);
    expect(inspect[0].Digest).to.equal(out.digest);
    // It ran the installed copy, not the checkout's.
    const resolved = (await run(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('tsbuild'))"], { cwd: project, env })).stdout;
    expect(resolved.trim()).to.equal(`file://${project}/node_modules/tsbuild/dist/index.js`);
  });
});
