/**
 * `tsbuild login/logout` against an htpasswd docker-registry: a wrong
 * password is refused before anything is stored, --password-stdin writes
 * config.json as docker does (auths[host].auth, mode 0600, other keys kept),
 * pull and push use what login stored, logout removes it; with `credsStore`
 * the helper's store and erase are called instead.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { startRegistry, type TestRegistry } from '../../registry-client/test/support/registry.js';
import { tsbuild } from './support.js';

const run = promisify(execFile);
const bin = resolve(import.meta.dirname, '../bin/tsbuild.js');

describe('tsbuild login/logout (docker-registry with htpasswd)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let reg: TestRegistry;
  let savedConfig: string | undefined;
  let dockerConfig: string;
  let root: string;
  before(async () => {
    tmp = tempDir('tsbuild-login-');
    reg = await startRegistry({ htpasswd: { user: 'dave', password: 'hunter2' } });
    dockerConfig = join(tmp.path, 'docker');
    mkdirSync(dockerConfig);
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ auths: {}, psFormat: 'table {{.ID}}' }));
    savedConfig = process.env['DOCKER_CONFIG'];
    process.env['DOCKER_CONFIG'] = dockerConfig;
    root = join(tmp.path, 'store');
    expect((await tsbuild(root, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', `${reg.host}/auth/bb:v1`)).code).to.equal(0);
  });
  after(async () => {
    if (savedConfig === undefined) delete process.env['DOCKER_CONFIG']; else process.env['DOCKER_CONFIG'] = savedConfig;
    await reg.stop();
    tmp.cleanup();
  });

  const loginStdin = (password: string) => new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    const child = execFile('node', [bin, '--root', root, 'login', '-u', 'dave', '--password-stdin', reg.host], { env: { ...process.env } }, (err, stdout, stderr) => {
      done({ code: err ? (err as { code?: number }).code ?? 1 : 0, stdout, stderr });
    });
    child.stdin!.end(`${password}\n`);
  });

  it('refuses a wrong password precisely and stores nothing', async () => {
    const r = await loginStdin('wrong');
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(`error: registry ${reg.host}: GET /v2/: 401 UNAUTHORIZED: authentication required (the credentials for ${reg.host} were not accepted)\n`);
    expect(JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8')).auths).to.deep.equal({});
  });

  it('push without credentials names registry, repository, digest, the 401 and what to do', async () => {
    const r = await tsbuild(root, 'push', `${reg.host}/auth/bb:v1`);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(`error: registry ${reg.host}, repository auth/bb, digest ${/digest (sha256:[a-f0-9]{64})/.exec(r.stderr)?.[1]}: HEAD blob: 401 (no credentials for ${reg.host}: tsbuild login ${reg.host})\n`);
  });

  it('logs in with --password-stdin as docker writes it, then push and pull use it; logout removes it', async () => {
    const r = await loginStdin('hunter2');
    expect(r.stdout).to.equal('Login Succeeded\n');
    expect(r.code).to.equal(0);
    const config = JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8'));
    expect(config).to.deep.equal({ auths: { [reg.host]: { auth: Buffer.from('dave:hunter2').toString('base64') } }, psFormat: 'table {{.ID}}' });
    expect(statSync(join(dockerConfig, 'config.json')).mode & 0o777).to.equal(0o600);

    const pushed = await tsbuild(root, 'push', `${reg.host}/auth/bb:v1`);
    expect(pushed.code, pushed.stderr).to.equal(0);
    const pulled = await tsbuild(join(tmp.path, 'other'), 'pull', `${reg.host}/auth/bb:v1`);
    expect(pulled.code, pulled.stderr).to.equal(0);
    // skopeo reads the same config.json (its --authfile) and sees what tsbuild pushed.
    await run('skopeo', ['inspect', '--tls-verify=false', '--authfile', join(dockerConfig, 'config.json'), `docker://${reg.host}/auth/bb:v1`]);

    expect((await tsbuild(root, 'logout', reg.host)).stdout).to.equal(`Removing login credentials for ${reg.host}\n`);
    expect(JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8'))).to.deep.equal({ auths: {}, psFormat: 'table {{.ID}}' });
    expect((await tsbuild(root, 'logout', reg.host)).stdout).to.equal(`Not logged in to ${reg.host}\n`);
    expect((await tsbuild(join(tmp.path, 'third'), 'pull', `${reg.host}/auth/bb:v1`)).code).to.equal(1);
  });

  it('stores and erases through the credsStore helper', async () => {
    const helperDir = join(tmp.path, 'helper');
    mkdirSync(helperDir);
    const log = join(helperDir, 'calls');
    writeFileSync(join(helperDir, 'docker-credential-test'), `#!/bin/sh\necho "$1 $(cat)" >> ${log}\n`);
    chmodSync(join(helperDir, 'docker-credential-test'), 0o755);
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ credsStore: 'test' }));
    const path = process.env['PATH'];
    process.env['PATH'] = `${helperDir}:${path}`;
    try {
      const r = await tsbuild(root, 'login', '-u', 'dave', '-p', 'hunter2', reg.host);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.include('WARNING! Using --password via the CLI is insecure. Use --password-stdin.');
      expect((await tsbuild(root, 'logout', reg.host)).code).to.equal(0);
    } finally {
      process.env['PATH'] = path;
    }
    expect(readFileSync(log, 'utf8')).to.equal(`store ${JSON.stringify({ ServerURL: reg.host, Username: 'dave', Secret: 'hunter2' })}\nerase ${reg.host}\n`);
    expect(JSON.parse(readFileSync(join(dockerConfig, 'config.json'), 'utf8'))).to.deep.equal({ credsStore: 'test' });
  });
});
