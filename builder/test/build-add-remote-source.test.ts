/**
 * The pure parts of ADD's remote sources: which sources are git or HTTP
 * (BuildKit's rules), the downloaded file's name, the conditional request
 * headers, and the choice of a commit from `git ls-remote` output.
 */
import { expect } from 'chai';
import { httpFilename, parseGitRef, remoteSourceOf } from '../src/definition/remote-source.js';
import { pickRef } from '../src/worker/git-cli.js';
import { conditionalHeaders } from '../src/worker/http-fetch.js';

describe('ADD remote sources (pure)', () => {
  it('tells git URLs from HTTP URLs and local paths as BuildKit does', () => {
    expect(remoteSourceOf('https://example.com/org/repo.git')).to.deep.equal({ kind: 'git', remote: 'https://example.com/org/repo.git', ref: '', subdir: '' });
    expect(remoteSourceOf('https://example.com/org/repo.git#v1.2:docs/')).to.deep.equal({ kind: 'git', remote: 'https://example.com/org/repo.git', ref: 'v1.2', subdir: 'docs' });
    expect(remoteSourceOf('git@github.com:org/repo.git#main')).to.deep.include({ kind: 'git', remote: 'git@github.com:org/repo.git', ref: 'main' });
    expect(remoteSourceOf('git://host/repo#:a/../b')).to.deep.include({ kind: 'git', ref: '', subdir: 'b' });
    expect(remoteSourceOf('ssh://git@host/repo.git')).to.deep.include({ kind: 'git' });
    expect(remoteSourceOf('https://example.com/file.tar.gz')).to.deep.equal({ kind: 'http', url: 'https://example.com/file.tar.gz', filename: 'file.tar.gz' });
    expect(remoteSourceOf('https://example.com/repo.git.tar')).to.deep.include({ kind: 'http' });
    expect(remoteSourceOf('github.com/org/repo')).to.equal(undefined);
    expect(remoteSourceOf('src/app.git')).to.equal(undefined);
    expect(remoteSourceOf('local.txt')).to.equal(undefined);
  });

  it('names a download after the last URL path segment, else __unnamed__', () => {
    expect(httpFilename('http://h/a/b/c.txt?x=1#f')).to.equal('c.txt');
    expect(httpFilename('http://h/a/dir/')).to.equal('dir');
    expect(httpFilename('http://h/')).to.equal('__unnamed__');
    expect(httpFilename('http://h')).to.equal('__unnamed__');
    expect(httpFilename('http://h/%2e%2e')).to.equal('__unnamed__');
    expect(parseGitRef('http://h/file.txt')).to.equal(undefined);
  });

  it('sends If-None-Match / If-Modified-Since from the last download', () => {
    expect(conditionalHeaders(undefined)).to.deep.equal({ 'accept-encoding': 'identity' });
    expect(conditionalHeaders({ url: 'u', digest: 'sha256:00', size: 1, etag: '"e"', lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT' } as never)).to.deep.equal({
      'accept-encoding': 'identity',
      'if-none-match': '"e"',
      'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT',
    });
  });

  it('picks the commit of a ref from ls-remote output: tags (peeled) before branches, HEAD by default, ids as is', () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    const c = 'c'.repeat(40);
    const out = [`${a}\tHEAD`, `${a}\trefs/heads/main`, `${b}\trefs/heads/v1`, `${c}\trefs/tags/v1`, `${b}\trefs/tags/v1^{}`, ''].join('\n');
    expect(pickRef(out, '')).to.deep.equal({ commit: a, fetchRef: 'refs/heads/main', branch: 'main' });
    expect(pickRef(out, 'main')).to.deep.equal({ commit: a, fetchRef: 'refs/heads/main', branch: 'main' });
    expect(pickRef(out, 'v1')).to.deep.equal({ commit: b, fetchRef: 'refs/tags/v1' });
    expect(pickRef(out, 'refs/heads/v1')).to.deep.equal({ commit: b, fetchRef: 'refs/heads/v1', branch: 'v1' });
    expect(pickRef(out, c)).to.deep.equal({ commit: c, fetchRef: undefined });
    expect(pickRef(out, 'nope')).to.equal(undefined);
  });
});
