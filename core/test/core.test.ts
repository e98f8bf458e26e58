import { expect } from 'chai';
import {
  canonicalJson,
  DockerfileError,
  isDigest,
  isNotFound,
  NotFoundError,
  parsePlatform,
  normalizePlatform,
  formatPlatform,
  parseReference,
  normalizeReference,
  sha256,
  layerMediaType,
  layerCompression,
} from '@tsbuild/core';

describe('core', () => {
  it('sha256 gives a valid digest', () => {
    const d = sha256('hello');
    expect(d).to.equal('sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(isDigest(d)).to.equal(true);
    expect(isDigest('sha256:xyz')).to.equal(false);
  });

  it('canonical JSON sorts keys at every level and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).to.equal('{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  });

  it('errors carry a category, a code and predicates', () => {
    const e = new NotFoundError('blob x not found', { code: 'STORE_BLOB_NOT_FOUND' });
    expect(isNotFound(e)).to.equal(true);
    expect(e.code).to.equal('STORE_BLOB_NOT_FOUND');
    const d = new DockerfileError('unknown instruction: FOO', 'Dockerfile', { start: { line: 3, character: 0 }, end: { line: 3, character: 3 } });
    expect(d.location).to.equal('Dockerfile:3:1');
    expect(d.code).to.equal('DOCKERFILE_INVALID');
  });

  it('parses platforms with docker normalization', () => {
    expect(parsePlatform('linux/amd64')).to.deep.equal({ os: 'linux', architecture: 'amd64' });
    expect(formatPlatform(parsePlatform('linux/aarch64'))).to.equal('linux/arm64/v8');
    expect(formatPlatform(parsePlatform('linux/arm/v7'))).to.equal('linux/arm/v7');
    expect(() => parsePlatform('linux//x')).to.throw(/invalid platform/);
  });

  it('normalizes platforms as containerd\'s platforms.Normalize (BuildKit\'s platform ARGs)', () => {
    const normal = (s: string) => formatPlatform(normalizePlatform(parsePlatform(s)));
    expect(normal('linux/arm64')).to.equal('linux/arm64');
    expect(normal('linux/arm64/v8')).to.equal('linux/arm64');
    expect(normal('linux/arm64/9.0')).to.equal('linux/arm64/v9');
    expect(normal('linux/arm')).to.equal('linux/arm/v7');
    expect(normal('linux/arm/6')).to.equal('linux/arm/v6');
    expect(normal('linux/amd64/v1')).to.equal('linux/amd64');
    expect(normal('linux/amd64/v3')).to.equal('linux/amd64/v3');
  });

  it('normalizes references like docker', () => {
    expect(parseReference('busybox')).to.deep.equal({ registry: 'docker.io', repository: 'library/busybox', tag: 'latest' });
    expect(parseReference('localhost:5000/app/x:1.0')).to.deep.equal({ registry: 'localhost:5000', repository: 'app/x', tag: '1.0' });
    expect(normalizeReference('docker.io/library/busybox:latest')).to.equal('busybox:latest');
    expect(normalizeReference('127.0.0.1:5000/a')).to.equal('127.0.0.1:5000/a:latest');
    expect(() => parseReference('UPPER')).to.throw(/invalid reference/);
  });

  // splitDockerDomain in github.com/distribution/reference normalize.go (vendored in BuildKit):
  // the first component is a domain when it is localhost, has "." or ":", or is not lowercase.
  it('splits the domain as docker does: localhost, dots and colons, uppercase, index.docker.io, digests', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    expect(parseReference('localhost/foo')).to.deep.equal({ registry: 'localhost', repository: 'foo', tag: 'latest' });
    expect(parseReference('localhost')).to.deep.equal({ registry: 'docker.io', repository: 'library/localhost', tag: 'latest' });
    expect(parseReference('a/b')).to.deep.equal({ registry: 'docker.io', repository: 'a/b', tag: 'latest' });
    expect(parseReference('Foo/bar')).to.deep.equal({ registry: 'Foo', repository: 'bar', tag: 'latest' });
    expect(parseReference('[::1]:5000/x')).to.deep.equal({ registry: '[::1]:5000', repository: 'x', tag: 'latest' });
    expect(parseReference('index.docker.io/library/busybox')).to.deep.equal({ registry: 'docker.io', repository: 'library/busybox', tag: 'latest' });
    expect(parseReference('docker.io/busybox')).to.deep.equal({ registry: 'docker.io', repository: 'library/busybox', tag: 'latest' });
    expect(parseReference(`127.0.0.1:5000/x@${d}`)).to.deep.equal({ registry: '127.0.0.1:5000', repository: 'x', digest: d });
    expect(parseReference(`x:1@${d}`)).to.deep.equal({ registry: 'docker.io', repository: 'library/x', tag: '1', digest: d });
    expect(() => parseReference('x@sha256:short')).to.throw(/bad digest/);
  });

  it('maps compression to layer media types and back', () => {
    expect(layerMediaType('gzip')).to.equal('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(layerMediaType('zstd', 'docker')).to.equal('application/vnd.docker.image.rootfs.diff.tar.zstd');
    expect(layerCompression('application/vnd.docker.image.rootfs.diff.tar.gzip')).to.equal('gzip');
  });
});
