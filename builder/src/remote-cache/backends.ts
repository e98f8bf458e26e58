/**
 * Where a remote cache lives: a registry repository (`type=registry,ref=R`)
 * or an OCI image layout directory (`type=local,dest=|src=DIR`, the tag in
 * index.json's `org.opencontainers.image.ref.name`, default `latest`, as
 * BuildKit's local cache: cache/remotecache/local/local.go). Both read and
 * write blobs by descriptor; blob bytes stream, never held whole (a config
 * or manifest is read whole, bounded).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { digestHex, isNotFound, parseReference, sha256, DigestMismatchError, type Descriptor, type Digest, type ImageReference } from '@tsbuild/core';
import type { RegistryClient } from '@tsbuild/registry-client';
import { LocalContentStore, initLayout, readBlobBytes, readIndex, writeIndex, type ContentIngester } from '@tsbuild/store';

/** A config or manifest is read whole: never more than this. */
const MAX_DOCUMENT_BYTES = 16 << 20;
const REF_NAME = 'org.opencontainers.image.ref.name';

export interface CacheBackend {
  /** How progress names it: the normalized reference, or the directory. */
  readonly name: string;
  /** Where its blobs live (a registry repository, a directory): backends at one location share blobs. */
  readonly location: string;
  /** The cache manifest's bytes, undefined when there is none. */
  readManifest(signal?: AbortSignal): Promise<Buffer | undefined>;
  readDocument(desc: Descriptor, signal?: AbortSignal): Promise<Buffer>;
  /** Streams a blob into `sink` (which verifies size and digest). */
  fetchBlob(desc: Descriptor, sink: ContentIngester, signal?: AbortSignal): Promise<void>;
  /** Writes a blob read from `open` unless the location has it. */
  pushBlob(desc: Descriptor, open: () => Promise<Readable>, signal?: AbortSignal): Promise<void>;
  putManifest(bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<void>;
}

export class RegistryBackend implements CacheBackend {
  readonly name: string;
  readonly location: string;
  private readonly ref: ImageReference;

  constructor(ref: string, private readonly client: () => Promise<RegistryClient>) {
    this.ref = parseReference(ref);
    this.name = `${this.ref.registry}/${this.ref.repository}${this.ref.digest ? `@${this.ref.digest}` : `:${this.ref.tag ?? 'latest'}`}`;
    this.location = `registry:${this.ref.registry}/${this.ref.repository}`;
  }

  async readManifest(signal?: AbortSignal): Promise<Buffer | undefined> {
    const { fetchManifest } = await import('@tsbuild/registry-client');
    try {
      return (await fetchManifest(await this.client(), this.ref, undefined, signal)).bytes;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async readDocument(desc: Descriptor, signal?: AbortSignal): Promise<Buffer> {
    const { fetchSmallBlob } = await import('@tsbuild/registry-client');
    return fetchSmallBlob(await this.client(), this.ref, desc, MAX_DOCUMENT_BYTES, signal);
  }

  async fetchBlob(desc: Descriptor, sink: ContentIngester, signal?: AbortSignal): Promise<void> {
    const { fetchBlobInto } = await import('@tsbuild/registry-client');
    await fetchBlobInto(await this.client(), this.ref, desc, { has: async () => false, ingest: (s, e, o) => sink.ingest(s, e, o) }, signal);
  }

  async pushBlob(desc: Descriptor, open: () => Promise<Readable>, signal?: AbortSignal): Promise<void> {
    const { pushBlob } = await import('@tsbuild/registry-client');
    await pushBlob(await this.client(), this.ref, desc, () => open(), signal ? { signal } : {});
  }

  async putManifest(bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<void> {
    const { putManifest } = await import('@tsbuild/registry-client');
    await putManifest(await this.client(), this.ref, mediaType, bytes, signal);
  }
}

export class LocalBackend implements CacheBackend {
  readonly name: string;
  readonly location: string;
  private readonly content: LocalContentStore;

  constructor(private readonly dir: string, private readonly tag = 'latest') {
    this.name = dir;
    this.location = `local:${dir}`;
    this.content = new LocalContentStore(dir);
  }

  async readManifest(): Promise<Buffer | undefined> {
    const index = await readIndex(this.dir);
    const entry = index.manifests.find((m) => m.annotations?.[REF_NAME] === this.tag);
    return entry ? this.readDocument(entry) : undefined;
  }

  async readDocument(desc: Descriptor, signal?: AbortSignal): Promise<Buffer> {
    const bytes = await readBlobBytes(this.content, desc.digest, { maxBytes: MAX_DOCUMENT_BYTES, ...(signal ? { signal } : {}) });
    const digest = sha256(bytes);
    if (digest !== desc.digest) throw new DigestMismatchError(desc.digest, digest);
    return bytes;
  }

  async fetchBlob(desc: Descriptor, sink: ContentIngester, signal?: AbortSignal): Promise<void> {
    const source = await this.content.reader(desc.digest, signal ? { signal } : {});
    await sink.ingest(source, { digest: desc.digest, size: desc.size }, signal ? { signal } : {});
  }

  async pushBlob(desc: Descriptor, open: () => Promise<Readable>, signal?: AbortSignal): Promise<void> {
    await initLayout(this.dir);
    if (await this.has(desc.digest)) return;
    await this.content.ingest(await open(), { digest: desc.digest, size: desc.size }, signal ? { signal } : {});
  }

  async putManifest(bytes: Buffer, mediaType: string, signal?: AbortSignal): Promise<void> {
    await initLayout(this.dir);
    const digest = sha256(bytes);
    await this.content.ingest(Readable.from([bytes]), { digest, size: bytes.length }, signal ? { signal } : {});
    const index = await readIndex(this.dir);
    const previous = index.manifests.find((m) => m.annotations?.[REF_NAME] === this.tag);
    index.manifests = [...index.manifests.filter((m) => m !== previous), { mediaType, digest, size: bytes.length, annotations: { [REF_NAME]: this.tag } }];
    await writeIndex(this.dir, index);
    // The manifest this tag named before, unless another tag still does (its blobs stay: the new one shares most).
    if (previous && previous.digest !== digest && !index.manifests.some((m) => m.digest === previous.digest)) {
      await rm(join(this.dir, 'blobs', 'sha256', digestHex(previous.digest)), { force: true });
    }
  }

  private has(digest: Digest): Promise<boolean> {
    return this.content.info(digest).then(() => true, (err: unknown) => { if (isNotFound(err)) return false; throw err; });
  }
}
