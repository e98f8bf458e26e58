/** The pure parts of the protocol: challenges, endpoints, error bodies, retry delays, token requests, docker config. */
import { expect } from 'chai';
import { RegistryError } from '@tsbuild/core';
import {
  parseWwwAuthenticate, endpointFor, parseErrorBody, registryError, retryDelay, isRetryableStatus,
  Authorizer, type Transport, tokenRequest, parseTokenResponse, checkManifestType, manifestRequest, MANIFEST_ACCEPT, credentialsFromAuths, helperFor, keyHost, configKey,
  selectMountCandidate,
} from '../src/index.js';

describe('registry protocol (pure)', () => {
  it('parses Bearer and Basic challenges with quoted, escaped params', () => {
    const got = parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a\\"b:pull,push", Basic realm="x"');
    expect(got).to.deep.equal([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:a"b:pull,push' } },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
    expect(parseWwwAuthenticate('')).to.deep.equal([]);
  });

  it('maps docker.io to registry-1.docker.io and allows plain HTTP only for loopback or named insecure registries', () => {
    expect(endpointFor('docker.io')).to.deep.equal({ registry: 'docker.io', host: 'registry-1.docker.io', schemes: ['https'] });
    expect(endpointFor('127.0.0.1:5000').schemes).to.deep.equal(['https', 'http']);
    expect(endpointFor('localhost:5000').schemes).to.deep.equal(['https', 'http']);
    expect(endpointFor('[::1]:5000').schemes).to.deep.equal(['https', 'http']);
    expect(endpointFor('reg.example:5000').schemes).to.deep.equal(['https']);
    expect(endpointFor('reg.example:5000', { insecure: ['reg.example:5000'] }).schemes).to.deep.equal(['https', 'http']);
  });

  it('names registry, repository, digest, status and OCI code in one error', () => {
    const body = JSON.stringify({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry', detail: 'x' }] });
    expect(parseErrorBody(body)).to.deep.equal([{ code: 'BLOB_UNKNOWN', message: 'blob unknown to registry' }]);
    expect(parseErrorBody('<html>')).to.deep.equal([]);
    const err = registryError({ operation: 'GET blob', registry: 'r:1', repository: 'app', digest: 'sha256:ab' }, 404, body);
    expect(err).to.be.instanceOf(RegistryError);
    expect(err.message).to.equal('registry r:1, repository app, digest sha256:ab: GET blob: 404 BLOB_UNKNOWN: blob unknown to registry');
    expect([err.category, err.code, err.status, err.ociCode, err.repository]).to.deep.equal(['NotFound', 'REGISTRY_BLOB_UNKNOWN', 404, 'BLOB_UNKNOWN', 'app']);
    expect(registryError({ operation: 'PUT manifest' }, 403, JSON.stringify({ errors: [{ code: 'DENIED', message: 'no' }] })).category).to.equal('PermissionDenied');
    const down = registryError({ operation: 'GET /v2/', registry: 'r:1' }, 0, '', new Error('connect ECONNREFUSED 127.0.0.1:1'));
    expect([down.category, down.code, down.message]).to.deep.equal(['Unavailable', 'REGISTRY_UNREACHABLE', 'registry r:1: GET /v2/: connection failed: connect ECONNREFUSED 127.0.0.1:1']);
  });

  it('retries 429, 408 and 5xx but not 501, waiting Retry-After (seconds or date) capped, else jittered backoff', () => {
    expect([429, 408, 500, 502, 503, 504].every(isRetryableStatus)).to.equal(true);
    expect([400, 401, 404, 501].some(isRetryableStatus)).to.equal(false);
    expect(retryDelay(0, '2')).to.equal(2000);
    expect(retryDelay(0, '120', { maxDelayMs: 5000 })).to.equal(5000);
    expect(retryDelay(0, new Date(10_000 + 3000).toUTCString(), {}, 10_000)).to.be.within(2000, 3000);
    expect(retryDelay(3, undefined, { baseDelayMs: 100, random: () => 0.5 })).to.equal(400);
    expect(retryDelay(20, undefined, { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 })).to.equal(999);
  });

  it('builds token requests: anonymous GET, Basic GET, refresh_token POST', () => {
    const params = { realm: 'https://auth.example/token', service: 'reg', scopes: ['repository:a:pull', 'repository:b:pull'] };
    const anon = tokenRequest(params, undefined);
    expect(anon.method).to.equal('GET');
    expect(anon.url).to.equal('https://auth.example/token?service=reg&scope=repository%3Aa%3Apull&scope=repository%3Ab%3Apull');
    expect(anon.headers).to.deep.equal({});
    expect(tokenRequest(params, { username: 'u', password: 'p:w' }).headers).to.deep.equal({ authorization: `Basic ${Buffer.from('u:p:w').toString('base64')}` });
    const refresh = tokenRequest(params, { identityToken: 'rt' });
    expect(refresh.method).to.equal('POST');
    expect(Object.fromEntries(new URLSearchParams(String(refresh.body)))).to.deep.equal({
      grant_type: 'refresh_token', refresh_token: 'rt', client_id: 'tsbuild', service: 'reg', scope: 'repository:a:pull repository:b:pull',
    });
    const t = parseTokenResponse(JSON.stringify({ access_token: 'x', expires_in: 100, issued_at: new Date(1_000_000).toISOString() }));
    expect(t).to.deep.equal({ token: 'x', expiresAt: 1_000_000 + 90_000 });
    expect(parseTokenResponse('{}')).to.equal(undefined);
  });

  it('reads docker config auths by key or by host, and picks credHelpers before credsStore', () => {
    const auth = Buffer.from('user:pa:ss').toString('base64');
    const config = { auths: { 'https://index.docker.io/v1/': { auth }, 'https://reg.example:5000/v1/': { auth }, 'tok.example': { identitytoken: 'rt' } } };
    expect(credentialsFromAuths(config, 'docker.io')).to.deep.equal({ username: 'user', password: 'pa:ss' });
    expect(credentialsFromAuths(config, 'reg.example:5000')).to.deep.equal({ username: 'user', password: 'pa:ss' });
    expect(credentialsFromAuths(config, 'tok.example')).to.deep.equal({ identityToken: 'rt' });
    expect(credentialsFromAuths(config, 'other.example')).to.equal(undefined);
    expect(helperFor({ credsStore: 'desktop', credHelpers: { 'gcr.io': 'gcloud' } }, 'gcr.io')).to.equal('gcloud');
    expect(helperFor({ credsStore: 'desktop' }, 'quay.io')).to.equal('desktop');
    expect(keyHost('https://h:1/v1/')).to.equal('h:1');
    expect(configKey('docker.io')).to.equal('https://index.docker.io/v1/');
  });

  it('asks for OCI and Docker schema2 manifests by tag or digest, and refuses schema 1 clearly', () => {
    const ref = { registry: 'r', repository: 'a', tag: 't' };
    expect(manifestRequest(ref)).to.deep.equal({ method: 'GET', path: '/manifests/t', operation: 'GET manifest t', headers: { accept: MANIFEST_ACCEPT } });
    expect(manifestRequest({ ...ref, digest: 'sha256:ab' }, 'HEAD').digest).to.equal('sha256:ab');
    expect(MANIFEST_ACCEPT).to.not.include('distribution.manifest.v1');
    const v2 = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json' }));
    expect(checkManifestType('application/vnd.docker.distribution.manifest.v2+json', v2, 'w')).to.equal('application/vnd.docker.distribution.manifest.v2+json');
    expect(checkManifestType('application/octet-stream', Buffer.from('{"schemaVersion":2,"manifests":[]}'), 'w')).to.equal('application/vnd.oci.image.index.v1+json');
    const s1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'a', tag: 't', fsLayers: [] }));
    expect(() => checkManifestType('application/vnd.docker.distribution.manifest.v1+prettyjws', s1, 'r/a@x'))
      .to.throw('r/a@x: Docker image manifest schema 1 is not supported').with.property('code', 'REGISTRY_SCHEMA1_UNSUPPORTED');
  });

  it('sends credentials to a plain-HTTP token realm only on loopback or a host named insecure', async () => {
    const never: Transport = async () => { throw new Error('no request may be sent'); };
    const creds = async () => ({ username: 'u', password: 'p' });
    const challenge = { scheme: 'bearer', params: { realm: 'http://auth.example/token', service: 's' } };
    const err = await new Authorizer(never, creds).authorization('reg.example', challenge, ['repository:a:pull']).catch((e: unknown) => e);
    expect(err).to.have.property('code', 'REGISTRY_REALM_INSECURE');
    expect((err as Error).message).to.equal('registry reg.example: its token realm http://auth.example/token is not HTTPS; credentials are not sent there (name auth.example insecure to allow it)');
    const allowed = await new Authorizer(never, creds, ['auth.example']).authorization('reg.example', challenge, ['repository:a:pull']).catch((e: unknown) => e);
    expect((allowed as Error).message).to.equal('no request may be sent'); // past the check, to the (refusing) transport
  });

  it('picks the mount source sharing the most leading path components with the target, never the target (containerd\'s rule)', () => {
    expect(selectMountCandidate('team/app', ['other/x', 'team/base', 'team/app'])).to.equal('team/base');
    expect(selectMountCandidate('team/app', ['a', 'b'])).to.equal('b');
    expect(selectMountCandidate('team/app', ['team/app'])).to.equal(undefined);
    expect(selectMountCandidate('team/app', [])).to.equal(undefined);
  });
});
