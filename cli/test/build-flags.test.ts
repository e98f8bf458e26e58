import { expect } from 'chai';
import { parseBuildFlags, type BuildInvocation } from '../src/build-flags.js';
import { splitCsv } from '../src/build-flag-values.js';
import { buildCommand } from '../src/commands/build.js';
import { parseCommandArgs, UsageError } from '../src/main.js';
import { tsbuild } from './support.js';

const ENV = { FROM_ENV: 'env-value', SECRET_TOKEN: 's3cr3t' };
const parse = (...argv: string[]): BuildInvocation => parseBuildFlags(parseCommandArgs(buildCommand, argv), ENV);
const usage = (...argv: string[]): string => {
  try {
    parse(...argv);
  } catch (err) {
    expect(err).to.be.instanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
};

describe('tsbuild build flags', () => {
  it('takes the context and defaults to auto progress and the image output', () => {
    const inv = parse('.');
    expect(inv.context).to.equal('.');
    expect(inv.progress).to.equal('auto');
    expect(inv.options).to.deep.equal({});
    expect(inv.quiet).to.equal(false);
  });

  const table: Array<[argv: string[], expected: (inv: BuildInvocation) => unknown, value: unknown]> = [
    [['-t', 'hello', '--tag', 'reg.example:5000/a/b:v1', '.'], (i) => i.options.tags, ['hello:latest', 'reg.example:5000/a/b:v1']],
    [['-f', 'sub/Dockerfile.dev', '.'], (i) => i.dockerfile, 'sub/Dockerfile.dev'],
    [['-f', '-', '.'], (i) => i.dockerfile, '-'],
    [['--target', 'build', '.'], (i) => i.options.target, 'build'],
    [['--build-arg', 'A=1', '--build-arg', 'B=x=y', '--build-arg', 'FROM_ENV', '--build-arg', 'UNSET', '.'], (i) => i.options.buildArgs, { A: '1', B: 'x=y', FROM_ENV: 'env-value' }],
    [['--secret', 'id=tok,src=/run/tok', '.'], (i) => i.options.secrets, [{ id: 'tok', src: '/run/tok' }]],
    [['--secret', 'id=tok,env=SECRET_TOKEN,cache=content', '.'], (i) => i.options.secrets, [{ id: 'tok', env: 'SECRET_TOKEN', cacheMode: 'content' }]],
    [['--secret', 'type=env,id=tok,source=SECRET_TOKEN', '.'], (i) => i.options.secrets, [{ id: 'tok', env: 'SECRET_TOKEN' }]],
    [['--secret', 'id=SECRET_TOKEN', '.'], (i) => i.options.secrets, [{ id: 'SECRET_TOKEN', env: 'SECRET_TOKEN' }]],
    [['--secret', 'id=k,type=file,src=/k,required', '.'], (i) => i.secrets, [{ id: 'k', src: '/k', required: true }]],
    [['--ssh', 'default', '--ssh', 'gh=/a.sock,/b.key', '.'], (i) => i.options.ssh, [{ id: 'default' }, { id: 'gh', paths: ['/a.sock', '/b.key'] }]],
    [['--label', 'a=1', '--label', 'org.x=with space', '.'], (i) => i.options.labels, { a: '1', 'org.x': 'with space' }],
    [['--network', 'host', '.'], (i) => i.options.network, 'host'],
    [['--network', 'none', '.'], (i) => i.options.network, 'none'],
    [['--network', 'default', '.'], (i) => i.options.network, undefined],
    [['--no-cache', '.'], (i) => i.options.noCache, true],
    [['--no-cache-filter', 'a,b', '--no-cache-filter', 'c', '.'], (i) => i.options.noCacheFilter, ['a', 'b', 'c']],
    [['--progress', 'plain', '.'], (i) => i.progress, 'plain'],
    [['--progress=json', '.'], (i) => i.progress, 'json'],
    [['--progress', 'rawjson', '.'], (i) => i.progress, 'rawjson'],
    [['--call', 'outline,format=json', '.'], (i) => i.call, { name: 'outline', format: 'json' }],
    [['--call', 'targets', '.'], (i) => i.call, { name: 'targets', format: 'text' }],
    [['--call', 'check', '--check', '.'], (i) => [i.call, i.check], [{ name: 'check', format: 'text' }, true]],
    [['--call', 'build', '.'], (i) => i.call, undefined],
    [['--cgroup-parent', 'ci/jobs', '.'], (i) => i.options.cgroupParent, 'ci/jobs'],
    [['--load', '.'], (i) => [i.load, i.options.outputs], [{ names: [] }, undefined]],
    [['-o', 'type=docker,name=a:1', '-o', 'type=tar,dest=fs.tar', '.'], (i) => [i.load, i.options.outputs], [{ names: ['a:1'] }, [{ type: 'tar', dest: 'fs.tar' }]]],
    [['-o', 'type=docker,dest=img.tar', '.'], (i) => [i.load, i.options.outputs], [undefined, [{ type: 'docker', dest: 'img.tar' }]]],
    [['-q', '.'], (i) => [i.quiet, i.progress], [true, 'quiet']],
    [['-o', 'type=oci,dest=out.tar,name=a:1', '.'], (i) => i.options.outputs, [{ type: 'oci', dest: 'out.tar', name: ['a:1'] }]],
    [['-o', 'type=image,"name=a:1,b:2",push=false', '.'], (i) => [i.options.outputs, i.push], [[{ type: 'image', name: ['a:1', 'b:2'] }], undefined]],
    [['-t', 'r/t', '-o', 'type=registry,name=r/n,compression=zstd,compression-level=9,force-compression=true', '.'], (i) => [i.options.outputs, i.options.compression, i.push],
      [[{ type: 'image', name: ['r/n'] }], 'zstd', { names: ['r/t:latest', 'r/n:latest'], compression: 'zstd', force: true, level: 9 }]],
    [['-t', 'r/t', '--push', '.'], (i) => i.push, { names: ['r/t:latest'], compression: 'gzip' }],
    [['-o', 'outdir', '.'], (i) => i.options.outputs, [{ type: 'local', dest: 'outdir' }]],
    [['--output', 'type=tar,dest=fs.tar', '-o', 'type=local,dest=d', '.'], (i) => i.options.outputs, [{ type: 'tar', dest: 'fs.tar' }, { type: 'local', dest: 'd' }]],
    [['--iidfile', 'iid', '--metadata-file', 'meta.json', '.'], (i) => [i.iidfile, i.metadataFile], ['iid', 'meta.json']],
    [['--platform', 'linux/arm64', '.'], (i) => i.options.platform, 'linux/arm64'],
    [['--build-context', 'base=docker-image://busybox', '--build-context', 'src=../src', '.'], (i) => i.options.buildContexts, { base: 'docker-image://busybox', src: '../src' }],
    [['--check', '.'], (i) => i.check, true],
    [['--print', 'dot', '.'], (i) => i.print, 'dot'],
    [['--context-hash', 'content', '.'], (i) => i.options.contextHash, 'content'],
    [['--allow', 'security.insecure', '.'], (i) => i.options.allowInsecure, true],
    [['--allow', 'network.host', '.'], (i) => i.options.allowNetworkHost, true],
    [['--server', 'unix:///run/s.sock', '.'], (i) => i.server, { address: 'unix:///run/s.sock' }],
    [['--compression', 'zstd', '.'], (i) => i.options.compression, 'zstd'],
    [['--runtime', 'runc', '.'], (i) => i.runtime, 'runc'],
    [['--pull', '.'], (i) => i.options.pull, 'always'],
    [['--offline', '.'], (i) => i.options.pull, 'never'],
    [['.'], (i) => i.options.pull, undefined],
    [['--trace', 't.json', '--report', 'r.html', '.'], (i) => [i.trace, i.report], ['t.json', 'r.html']],
  ];
  for (const [argv, get, value] of table) {
    it(`parses ${argv.slice(0, -1).join(' ')}`, () => {
      expect(get(parse(...argv))).to.deep.equal(value);
    });
  }

  const errors: Array<[argv: string[], message: RegExp]> = [
    [[], /build context .* is required/],
    [['a', 'b'], /one build context/],
    [['-', '-f', '-'], /cannot both read stdin/],
    [['-t', 'UPPER/Case', '.'], /^--tag: /],
    [['--build-arg', '=x', '.'], /^--build-arg: /],
    [['--secret', 'src=/x', '.'], /^--secret: id= is required/],
    [['--secret', 'id=a,type=ssh', '.'], /^--secret: unsupported type/],
    [['--secret', 'id=a,src=/x,env=Y', '.'], /not both/],
    [['--secret', 'id=a,type=file', '.'], /type=file needs src/],
    [['--secret', 'id=a,cache=always', '.'], /unsupported cache mode/],
    [['--secret', 'id=a,bogus=1', '.'], /unexpected key "bogus"/],
    [['--ssh', 'bad id', '.'], /^--ssh: invalid id/],
    [['--ssh', 'x=', '.'], /^--ssh x: expected a path/],
    [['--label', 'novalue', '.'], /^--label: expected KEY=VALUE/],
    [['--network', 'bridge', '.'], /^--network: invalid value "bridge"/],
    [['--progress', 'fancy', '.'], /^--progress: invalid value "fancy"/],
    [['-o', 'type=registry', '.'], /^--output push=true needs at least one -t\/--tag or name=/],
    [['-o', 'type=nope', '.'], /^--output: unknown type "nope"/],
    [['-o', 'type=oci', '.'], /^--output type=oci: dest=PATH is required/],
    [['-o', 'dest=x', '.'], /^--output: type= is required/],
    [['-o', '-', '.'], /^--output: expected a directory/],
    [['-o', 'type=image,push=maybe', '.'], /push= expects true or false/],
    [['--platform', 'linux//x', '.'], /^--platform: invalid platform/],
    [['--build-context', 'nope', '.'], /^--build-context: expected KEY=VALUE/],
    [['--print', 'tree', '.'], /^--print: invalid value "tree" \(outline, dot, json, definition\)/],
    [['--print', 'outline', '--check', '.'], /cannot be combined/],
    [['--context-hash', 'mtime', '.'], /^--context-hash: invalid value/],
    [['--allow', 'device', '.'], /^--allow: unknown entitlement "device"/],
    [['--server', 'http://x', '.'], /^--server: expected unix:\/\/\/PATH or tcp:\/\/HOST:PORT/],
    [['--server', 'tcp://h:1', '.'], /needs --tls-cert, --tls-key and --tls-ca/],
    [['--tls-cert', 'c.pem', '.'], /go with --server/],
    [['--server', 'unix:///s', '--push', '-t', 'x', '.'], /pushing \(--push, -o push=true\) with --server is not supported yet/],
    [['--compression', 'bzip2', '.'], /^--compression: invalid value "bzip2"/],
    [['--pull', '--offline', '.'], /^--pull and --offline cannot be combined/],
    [['--report', 'r.txt', '.'], /^--report: expected an .html file/],
    [['--cgroup-parent', '../escape', '.'], /^--cgroup-parent: "..\/escape" must not contain a \.\. segment/],
  ];
  for (const [argv, message] of errors) {
    it(`refuses ${argv.join(' ') || '(no context)'}`, () => {
      expect(usage(...argv)).to.match(message);
    });
  }

  it('refuses SOURCE_DATE_EPOCH that is not a number and takes one that is', () => {
    const args = parseCommandArgs(buildCommand, ['.']);
    expect(parseBuildFlags(args, { SOURCE_DATE_EPOCH: '1700000000' }).options.sourceDateEpoch).to.equal(1700000000);
    expect(() => parseBuildFlags(args, { SOURCE_DATE_EPOCH: 'yesterday' })).to.throw(UsageError, /SOURCE_DATE_EPOCH/);
  });

  it('splits CSV values with quotes like buildx', () => {
    expect(splitCsv('type=image,"name=a,b",push=true')).to.deep.equal(['type=image', 'name=a,b', 'push=true']);
    expect(splitCsv('a="x""y"')).to.deep.equal(['a=x"y']);
    expect(() => splitCsv('a="x')).to.throw(/unterminated quote/);
  });

  it('exits 2 with the usage line and the flag named; an unknown flag too', async () => {
    const bad = await tsbuild('/nonexistent-root', 'build', '--network', 'bridge', '.');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.equal('error: --network: invalid value "bridge" (host, none, default)\nUsage: tsbuild build [OPTIONS] CONTEXT|-\n');
    const unknown = await tsbuild('/nonexistent-root', 'build', '--squash', '.');
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.match(/squash/);
  });

  it('never prints a secret value, not even with --debug', async () => {
    const r = await tsbuild('/nonexistent-root', '--debug', 'build', '--secret', 'id=tok,env=SECRET_TOKEN,required', '--secret', 'id=x,bogus=s3cr3t', '.');
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/unexpected key "bogus"/);
    expect(r.stderr).not.to.include('s3cr3t');
    const env = { ...process.env, SECRET_TOKEN: 's3cr3t' };
    const args = parseCommandArgs(buildCommand, ['--secret', 'id=tok,env=SECRET_TOKEN', '.']);
    expect(JSON.stringify(parseBuildFlags(args, env))).not.to.include('s3cr3t');
  });

  it('lists every flag in --help', async () => {
    const r = await tsbuild('/nonexistent-root', 'build', '--help');
    expect(r.code).to.equal(0);
    for (const f of ['--tag', '--file', '--secret', '--ssh', '--progress', '--output', '--check', '--print', '--trace', '--report', '--runtime', '--quiet',
      '--add-host', '--shm-size', '--ulimit', '--cgroup-parent', '--annotation', '--label', '--call', 'rawjson', '--load']) {
      expect(r.stdout).to.include(f);
    }
  });
});

describe('tsbuild build --cache-from / --cache-to values (buildx CSV, BuildKit attributes)', () => {
  it('parses registry, local and inline specs into the build options, in order', () => {
    expect(parse('--cache-from', 'r.example/app:cache', '--cache-from', 'type=local,src=/c,tag=t1', '.').options.cacheFrom).to.deep.equal([
      { type: 'registry', ref: 'r.example/app:cache' },
      { type: 'local', src: '/c', tag: 't1' },
    ]);
    expect(parse(
      '--cache-to', 'type=registry,ref=r.example/app:cache,mode=max,image-manifest=false,oci-mediatypes=true,compression=zstd,ignore-error=true,cache-mounts=true',
      '--cache-to', 'type=local,dest=/out,compression=uncompressed',
      '--cache-to', 'type=inline', '.',
    ).options.cacheTo).to.deep.equal([
      { type: 'registry', ref: 'r.example/app:cache', mode: 'max', imageManifest: false, compression: 'zstd', ignoreError: true, cacheMounts: true },
      { type: 'local', dest: '/out', compression: 'none' },
      { type: 'inline' },
    ]);
    expect(parse('.').options).to.not.have.property('cacheFrom');
  });

  it('names the flag and the attribute of a bad value', () => {
    expect(usage('--cache-to', 'type=registry', '.')).to.equal('--cache-to: type=registry needs ref=');
    expect(usage('--cache-from', 'type=local', '.')).to.equal('--cache-from: type=local needs src=');
    expect(usage('--cache-to', 'type=registry,ref=r/a,mode=all', '.')).to.equal('--cache-to: mode= expects min or max, got "all"');
    expect(usage('--cache-to', 'type=inline,mode=max', '.')).to.equal('--cache-to: type=inline supports only mode=min (as BuildKit\'s inline cache)');
    expect(usage('--cache-to', 'type=registry,ref=r/a,oci-mediatypes=false', '.')).to.match(/oci-mediatypes=false is not supported/);
    expect(usage('--cache-to', 'type=registry,ref=r/a,compression=estargz', '.')).to.match(/compression= expects uncompressed, gzip or zstd/);
    expect(usage('--cache-from', 'type=gha', '.')).to.match(/type=gha is not supported/);
    expect(usage('--cache-from', 'type=registry,ref=r/a,mode=max', '.')).to.match(/unknown attribute mode= for type=registry/);
  });
});
