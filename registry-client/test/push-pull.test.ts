/**
 * Push and pull against docker-registry: chunked and monolithic uploads, a
 * HEAD that skips, a cross-repository mount, a manifest PUT read back by
 * skopeo, platform selection from an index, and a PATCH whose connection is
 * cut, resent or restarted.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { DigestMismatchError, MediaType, NotFoundError, RegistryError, sha256, type Descriptor, type Digest, type ImageReference } from '@tsbuild/core';
import { RegistryClient, pushManifest, pushBlob, putManifest, pullImage, resolveImage, type BlobSink } from '../src/index.js';
import { startRegistry, type TestRegistry } from './support/registry.js';
import { startFaultProxy } from './support/fault-proxy.js';

const run = promisify(execFile);

/** A content-addressed map of blobs: the source of pushes and the verifying sink of pulls. */
class MemoryBlobs implements BlobSink {
  readonly blobs = new Map<string, Buffer>();
  add(bytes: Buffer, mediaType: string): Descriptor {
    const digest = sha256(bytes);
    this.blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  }
  open = async (desc: Descriptor, start: number) => Readable.from([this.blobs.get(desc.digest)!.subarray(start)]);
  async has(digest: Digest) { return this.blobs.has(digest); }
  async ingest(source: Readable, expected: { digest: Digest; size: number }) {
    const chunks: Buffer[] = [];
    for await (const c of source) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    if (sha256(bytes) !== expected.digest) throw new DigestMismatchError(expected.digest, sha256(bytes));
    this.blobs.set(expected.digest, bytes);
  }
}

function image(blobs: MemoryBlobs, arch: string, layerSizes: number[]) {
  const layers = layerSizes.map((n) => blobs.add(randomBytes(n), MediaType.OciLayerGzip));
  const config = blobs.add(Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } })), MediaType.OciConfig);
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OciManifest, config, layers }));
  return { mediaType: MediaType.OciManifest, bytes, blobs: [config, ...layers], digest: sha256(bytes) };
}

describe('registry push and pull (docker-registry)', function () {
  this.timeout(60_000);
  let reg: TestRegistry;
  let client: RegistryClient;
  before(async () => { reg = await startRegistry(); client = new RegistryClient({ credentials: async () => undefined }); });
  after(async () => { await client.close(); await reg.stop(); });
  const ref = (repository: string, tag = 'v1'): ImageReference => ({ registry: reg.host, repository, tag });

  it('pushes chunked and monolithic blobs and a manifest skopeo reads; a second push only HEADs; pull gets the same bytes', async () => {
    const src = new MemoryBlobs();
    const img = image(src, 'amd64', [300 * 1024 + 7, 1000]);
    const results: string[] = [];
    const digest = await pushManifest(client, ref('pp/app'), img, src.open, { chunkSize: 64 * 1024, onBlob: (e) => results.push(e.result) });
    expect(digest).to.equal(img.digest);
    expect(results).to.deep.equal(['uploaded', 'uploaded', 'uploaded']);
    const inspected = JSON.parse((await run('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/pp/app:v1`])).stdout);
    expect(inspected.Digest).to.equal(img.digest);
    expect(inspected.Layers).to.deep.equal(img.blobs.slice(1).map((b) => b.digest));

    const again: string[] = [];
    await pushManifest(client, ref('pp/app'), img, src.open, { onBlob: (e) => again.push(e.result) });
    expect(again).to.deep.equal(['exists', 'exists', 'exists']);

    const sink = new MemoryBlobs();
    const desc = await pullImage(client, ref('pp/app'), sink);
    expect(desc.digest).to.equal(img.digest);
    for (const b of img.blobs) expect(sink.blobs.get(b.digest)?.equals(src.blobs.get(b.digest)!)).to.equal(true);
  });

  it('mounts a blob from another repository of the same registry', async () => {
    const src = new MemoryBlobs();
    const layer = src.add(randomBytes(5000), MediaType.OciLayerGzip);
    expect(await pushBlob(client, ref('mount/a'), layer, src.open)).to.equal('uploaded');
    expect(await pushBlob(client, ref('mount/b'), layer, async () => { throw new Error('a mount reads nothing'); }, { mountFrom: 'mount/a' })).to.equal('mounted');
    expect(await pushBlob(client, ref('mount/b'), layer, src.open)).to.equal('exists');
  });

  it('picks the platform from an index (its own and one skopeo copied), and names the platforms offered when none matches', async () => {
    const src = new MemoryBlobs();
    const amd = image(src, 'amd64', [100]);
    const arm = image(src, 'arm64', [200]);
    for (const [img, tag] of [[amd, 'amd'], [arm, 'arm']] as const) await pushManifest(client, ref('multi/app', tag), img, src.open);
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MediaType.OciIndex,
      manifests: [
        { mediaType: MediaType.OciManifest, digest: amd.digest, size: amd.bytes.length, platform: { os: 'linux', architecture: 'amd64' } },
        { mediaType: MediaType.OciManifest, digest: arm.digest, size: arm.bytes.length, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      ],
    }));
    await putManifest(client, ref('multi/app', 'v1'), MediaType.OciIndex, index);
    const got = await resolveImage(client, ref('multi/app'), { platform: { os: 'linux', architecture: 'arm64' } });
    expect(got.descriptor).to.deep.include({ digest: arm.digest, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } });
    expect(got.index?.descriptor.digest).to.equal(sha256(index));
    // The same index copied by skopeo (--all) into another repository, then pulled for arm64.
    await run('skopeo', ['copy', '--all', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${reg.host}/multi/app:v1`, `docker://${reg.host}/multi/skopeo:v1`]);
    // (skopeo re-compresses these random "gzip" layers, so its manifests are its own: compare with what it wrote.)
    const { stdout: rawIndex } = await run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/multi/skopeo:v1`]);
    const armEntry = (JSON.parse(rawIndex) as { manifests: { digest: string; platform: { architecture: string } }[] }).manifests.find((m) => m.platform.architecture === 'arm64')!;
    const sink = new MemoryBlobs();
    const fromSkopeo = await pullImage(client, ref('multi/skopeo'), sink, { platform: { os: 'linux', architecture: 'arm64' } });
    expect(fromSkopeo.digest).to.equal(armEntry.digest);
    const armManifest = JSON.parse(sink.blobs.get(armEntry.digest)!.toString()) as { config: Descriptor; layers: Descriptor[] };
    expect(armManifest.config.digest).to.equal(arm.blobs[0]!.digest); // the arm64 config, byte for byte
    expect([...sink.blobs.keys()].sort()).to.deep.equal([armEntry.digest, armManifest.config.digest, ...armManifest.layers.map((l) => l.digest)].sort());
    const err = await resolveImage(client, ref('multi/app'), { platform: { os: 'linux', architecture: 's390x' } }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NotFoundError);
    expect((err as NotFoundError).message).to.equal(`${reg.host}/multi/app: no manifest for platform linux/s390x (the index offers linux/amd64, linux/arm64/v8)`);
  });

  for (const fault of ['reset', 'truncate'] as const) it(`resends a chunk whose PATCH connection was cut (${fault}), and the blob arrives whole`, async () => {
    const proxy = await startFaultProxy(reg.host);
    const viaProxy = new RegistryClient({ credentials: async () => undefined, retry: { baseDelayMs: 5 } });
    try {
      proxy.inject((r) => r.method === 'PATCH', [fault]);
      const src = new MemoryBlobs();
      const img = image(src, 'amd64', [200 * 1024]);
      const target: ImageReference = { registry: proxy.host, repository: `${fault}/app`, tag: 'v1' };
      expect(await pushManifest(viaProxy, target, img, src.open, { chunkSize: 64 * 1024 })).to.equal(img.digest);
      const sink = new MemoryBlobs();
      await pullImage(client, ref(`${fault}/app`), sink);
      const patches = proxy.seen.filter((x) => x.startsWith('PATCH')).length;
      const starts = proxy.seen.filter((x) => x.startsWith('POST')).length;
      // reset: the retry layer resends the chunk (3 chunks + 1); truncate: the upload is
      // invalid after the cut, so the blob is uploaded again from byte 0 (3 chunks × 2, one cut).
      expect([patches, starts]).to.deep.equal(fault === 'reset' ? [4, 2] : [5, 3]);
      expect(sink.blobs.get(img.blobs[1]!.digest)?.equals(src.blobs.get(img.blobs[1]!.digest)!)).to.equal(true);
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('resumes an upload whose connection dropped between chunks at the offset the registry reports: no byte sent twice', async () => {
    const proxy = await startFaultProxy(reg.host);
    // One attempt per request: the dropped PATCH is not resent by the retry layer, so the upload asks the registry where it stands.
    const viaProxy = new RegistryClient({ credentials: async () => undefined, retry: { attempts: 1 } });
    try {
      let patches = 0;
      proxy.inject((r) => r.method === 'PATCH' && ++patches === 3, ['reset']);
      const src = new MemoryBlobs();
      const layer = src.add(randomBytes(5 * 64 * 1024 + 99), MediaType.OciLayerGzip);
      const target: ImageReference = { registry: proxy.host, repository: 'resume/app', tag: 'v1' };
      expect(await pushBlob(viaProxy, target, layer, src.open, { chunkSize: 64 * 1024 })).to.equal('uploaded');
      expect(proxy.forwardedBytes).to.equal(layer.size);
      expect(proxy.seen.filter((x) => x.startsWith('POST'))).to.have.length(1);
      expect(proxy.seen.filter((x) => /^GET \/v2\/resume\/app\/blobs\/uploads\//.test(x))).to.have.length(1);
      const sink = new MemoryBlobs();
      await sink.ingest((await viaProxy.send(reg.host, 'resume/app', ['pull'], { method: 'GET', path: `/blobs/${layer.digest}`, operation: 'GET blob' })).body, layer);
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('resumes a blob cut mid-way with Range from the bytes already ingested (≈ one blob over the wire), and refetches whole from a registry that ignores Range', async () => {
    const src = new MemoryBlobs();
    const size = 4 << 20;
    const img = image(src, 'amd64', [size]);
    await pushManifest(client, ref('resume/app'), img, src.open);
    const proxy = await startFaultProxy(reg.host);
    const viaProxy = new RegistryClient({ credentials: async () => undefined, retry: { baseDelayMs: 5 } });
    const layer = img.blobs[1]!.digest;
    const layerGets = () => proxy.seen.filter((x) => x === `GET /v2/resume/app/blobs/${layer}`).length;
    try {
      const ranges: string[] = [];
      // A rule that never matches, only records the Range header of each GET of the layer.
      proxy.inject((r) => { if (r.method === 'GET' && (r.url ?? '').endsWith(layer)) ranges.push(r.headers.range ?? ''); return false; }, ['cut']);
      proxy.inject((r) => r.method === 'GET' && (r.url ?? '').endsWith(layer), ['cut']);
      const before = proxy.bytesOut;
      const sink = new MemoryBlobs();
      await pullImage(viaProxy, { registry: proxy.host, repository: 'resume/app', tag: 'v1' }, sink);
      expect(sink.blobs.get(layer)?.equals(src.blobs.get(layer)!)).to.equal(true);
      expect(layerGets()).to.equal(2);
      expect(ranges[0]).to.equal('');
      expect(ranges[1]).to.match(/^bytes=\d+-$/);
      expect(Number(/\d+/.exec(ranges[1]!)![0])).to.be.within(1, size - 1);
      // The manifest and config are small; the layer crossed the wire about once, not 1.5 times.
      expect(proxy.bytesOut - before).to.be.within(size, size + 64 * 1024);

      proxy.inject((r) => r.method === 'GET' && (r.url ?? '').endsWith(layer), ['cut', 'ignore-range']);
      const again = new MemoryBlobs();
      const beforeFull = proxy.bytesOut;
      await pullImage(viaProxy, { registry: proxy.host, repository: 'resume/app', tag: 'v1' }, again);
      expect(again.blobs.get(layer)?.equals(src.blobs.get(layer)!)).to.equal(true);
      expect(layerGets()).to.equal(4);
      expect(proxy.bytesOut - beforeFull).to.be.within(size * 1.5, size * 1.5 + 64 * 1024);
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('fetches a blob again when its body is cut mid-way; three cuts are one RegistryError naming the blob', async () => {
    const src = new MemoryBlobs();
    const img = image(src, 'amd64', [100 * 1024]);
    await pushManifest(client, ref('cut/app'), img, src.open);
    const proxy = await startFaultProxy(reg.host);
    const viaProxy = new RegistryClient({ credentials: async () => undefined, retry: { baseDelayMs: 5 } });
    try {
      const layer = img.blobs[1]!.digest;
      proxy.inject((r) => r.method === 'GET' && (r.url ?? '').endsWith(layer), ['cut']);
      const sink = new MemoryBlobs();
      await pullImage(viaProxy, { registry: proxy.host, repository: 'cut/app', tag: 'v1' }, sink);
      expect(sink.blobs.get(layer)?.equals(src.blobs.get(layer)!)).to.equal(true);
      expect(proxy.seen.filter((x) => x === `GET /v2/cut/app/blobs/${layer}`)).to.have.length(2);

      proxy.inject((r) => r.method === 'GET' && (r.url ?? '').endsWith(layer), ['cut', 'cut', 'cut']);
      const err = await pullImage(viaProxy, { registry: proxy.host, repository: 'cut/app', tag: 'v1' }, new MemoryBlobs()).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(RegistryError);
      expect((err as RegistryError).message).to.match(new RegExp(`^registry ${proxy.host}, repository cut/app, digest ${layer}: GET blob: connection failed: `));
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('a registry that accepts and then stalls times the request out and it is retried: pull and push end with the right bytes', async () => {
    const src = new MemoryBlobs();
    const img = image(src, 'amd64', [100 * 1024, 3000]);
    await pushManifest(client, ref('stall/app'), img, src.open);
    const proxy = await startFaultProxy(reg.host);
    const viaProxy = new RegistryClient({ credentials: async () => undefined, retry: { baseDelayMs: 5 }, timeoutMs: 300 });
    try {
      const layer = img.blobs[1]!.digest;
      proxy.inject((r) => r.method === 'GET' && (r.url ?? '').includes('/manifests/'), ['stall']);
      proxy.inject((r) => r.method === 'GET' && (r.url ?? '').endsWith(layer), ['stall-body']);
      const sink = new MemoryBlobs();
      expect((await pullImage(viaProxy, { registry: proxy.host, repository: 'stall/app', tag: 'v1' }, sink)).digest).to.equal(img.digest);
      for (const b of img.blobs) expect(sink.blobs.get(b.digest)?.equals(src.blobs.get(b.digest)!)).to.equal(true);
      expect(proxy.seen.filter((x) => x === `GET /v2/stall/app/blobs/${layer}`)).to.have.length(2);

      // Push: the HEAD, a PATCH and the closing PUT each stall once.
      const up = image(src, 'amd64', [200 * 1024]);
      for (const method of ['HEAD', 'PATCH', 'PUT']) proxy.inject((r) => r.method === method && (r.url ?? '').includes('/blobs/'), ['stall']);
      const target: ImageReference = { registry: proxy.host, repository: 'stall/up', tag: 'v1' };
      expect(await pushManifest(viaProxy, target, up, src.open, { chunkSize: 64 * 1024 })).to.equal(up.digest);
      const back = new MemoryBlobs();
      await pullImage(client, ref('stall/up'), back);
      expect(back.blobs.get(up.blobs[1]!.digest)?.equals(src.blobs.get(up.blobs[1]!.digest)!)).to.equal(true);
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it('a registry that always stalls ends in one error naming registry, repository and digest', async () => {
    const src = new MemoryBlobs();
    const img = image(src, 'amd64', [2000]);
    await pushManifest(client, ref('stall/dead'), img, src.open);
    const proxy = await startFaultProxy(reg.host);
    const viaProxy = new RegistryClient({ credentials: async () => undefined, retry: { attempts: 2, baseDelayMs: 5 }, timeoutMs: 200 });
    try {
      const layer = img.blobs[1]!.digest;
      proxy.inject((r) => r.method === 'GET' && (r.url ?? '').endsWith(layer), Array(20).fill('stall-body'));
      const err = await pullImage(viaProxy, { registry: proxy.host, repository: 'stall/dead', tag: 'v1' }, new MemoryBlobs()).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(RegistryError);
      expect((err as RegistryError).message).to.match(new RegExp(`^registry ${proxy.host}, repository stall/dead, digest ${layer}: GET blob: timed out: the response body stalled longer than the idle timeout$`));
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });
});
