import { join } from 'node:path';
import {
  FailedPreconditionError,
  IMAGE_NAME_ANNOTATION,
  InvalidArgumentError,
  NotFoundError,
  REF_NAME_ANNOTATION,
  formatReference,
  isDigest,
  parseReference,
  familiarReference,
  type Descriptor,
  type Index,
  withLock,
} from '@tsbuild/core';
import type { ImageRecord, ImageStore } from '../types.js';
import { initLayout, readIndex, writeIndex } from './oci-layout.js';

/** When a tag was last written; our own annotation, ignored by other tools. */
export const TAGGED_AT_ANNOTATION = 'dev.tsbuild.image.tagged-at';

/**
 * Tags as entries of the layout's index.json.
 *
 * `org.opencontainers.image.ref.name` holds the *familiar reference*
 * (`busybox:latest`, `localhost:5000/app:1`), not just the tag: a store holds
 * many repositories, so a bare `latest` would be ambiguous. Both consumers
 * accept it (verified with skopeo 1.9 and umoci 0.4.7, see
 * store/test/interop.test.ts): `skopeo inspect oci:<root>:busybox:latest` and
 * `umoci unpack --image <root>:busybox:latest` split the path at the first
 * colon and match the rest against ref.name. `io.containerd.image.name` holds
 * the fully normalized name (`docker.io/library/busybox:latest`), as
 * containerd and BuildKit write it.
 *
 * Entries without either annotation (untagged manifests another tool left)
 * are preserved but not listed. index.json is changed only under
 * `index.json.lock`, read-modify-write, written atomically.
 */
export class OciLayoutImageStore implements ImageStore {
  readonly root: string;
  readonly readOnly: boolean;
  private ready: Promise<void> | undefined;

  constructor(root: string, options: { readOnly?: boolean } = {}) {
    this.root = root;
    this.readOnly = options.readOnly ?? false;
  }

  async list(): Promise<ImageRecord[]> {
    const index = await readIndex(this.root);
    return index.manifests.flatMap((d) => {
      const name = recordName(d);
      return name === undefined ? [] : [toRecord(name, d)];
    });
  }

  async get(ref: string): Promise<ImageRecord> {
    const records = await this.list();
    const exact = records.find((r) => r.name === ref);
    if (exact) return exact;
    const normalized = tryNormalize(ref);
    const byName = normalized === undefined ? undefined : records.find((r) => tryNormalize(r.name) === normalized);
    if (byName) return byName;
    const prefix = digestPrefix(ref);
    if (prefix !== undefined) {
      const hits = records.filter((r) => r.target.digest.startsWith(prefix));
      const targets = new Set(hits.map((r) => r.target.digest));
      if (targets.size > 1) {
        throw new InvalidArgumentError(`${ref} is ambiguous: it prefixes ${[...targets].join(', ')}`, { code: 'STORE_IMAGE_AMBIGUOUS' });
      }
      if (hits[0]) return hits[0];
    }
    throw new NotFoundError(`image ${ref} not found`, { code: 'STORE_IMAGE_NOT_FOUND' });
  }

  async put(ref: string, target: Descriptor): Promise<ImageRecord> {
    const parsed = parseReference(ref);
    const name = familiarReference(parsed);
    const createdAt = new Date().toISOString();
    const entry: Descriptor = {
      ...target,
      annotations: {
        ...target.annotations,
        [REF_NAME_ANNOTATION]: name,
        [IMAGE_NAME_ANNOTATION]: formatReference(parsed),
        [TAGGED_AT_ANNOTATION]: createdAt,
      },
    };
    await this.update((index) => {
      index.manifests = index.manifests.filter((d) => !sameName(d, name));
      index.manifests.push(entry);
    });
    return toRecord(name, entry);
  }

  async delete(ref: string): Promise<void> {
    const record = await this.get(ref);
    let removed = false;
    await this.update((index) => {
      const before = index.manifests.length;
      index.manifests = index.manifests.filter((d) => recordName(d) !== record.name);
      removed = index.manifests.length < before;
    });
    if (!removed) throw new NotFoundError(`image ${ref} not found`, { code: 'STORE_IMAGE_NOT_FOUND' });
  }

  /** Read-modify-write of index.json under the layout's lock. */
  private async update(change: (index: Index) => void): Promise<void> {
    if (this.readOnly) throw new FailedPreconditionError(`image store at ${this.root} is read-only`, { code: 'STORE_READ_ONLY' });
    this.ready ??= initLayout(this.root);
    await this.ready;
    await withLock(join(this.root, 'index.json.lock'), async () => {
      const index = await readIndex(this.root);
      change(index);
      await writeIndex(this.root, index);
    });
  }
}

/** The name a record is listed under: the familiar form of io.containerd.image.name, else ref.name as written. */
function recordName(d: Descriptor): string | undefined {
  const full = d.annotations?.[IMAGE_NAME_ANNOTATION];
  if (full !== undefined) return tryNormalize(full) ?? full;
  return d.annotations?.[REF_NAME_ANNOTATION];
}

function sameName(d: Descriptor, name: string): boolean {
  const n = recordName(d);
  return n !== undefined && (n === name || tryNormalize(n) === name);
}

function toRecord(name: string, d: Descriptor): ImageRecord {
  const { annotations, ...rest } = d;
  const kept = Object.fromEntries(
    Object.entries(annotations ?? {}).filter(([k]) => k !== REF_NAME_ANNOTATION && k !== IMAGE_NAME_ANNOTATION && k !== TAGGED_AT_ANNOTATION),
  );
  const target: Descriptor = Object.keys(kept).length > 0 ? { ...rest, annotations: kept } : rest;
  const createdAt = annotations?.[TAGGED_AT_ANNOTATION];
  return createdAt === undefined ? { name, target } : { name, target, createdAt };
}

function tryNormalize(ref: string): string | undefined {
  try {
    return familiarReference(parseReference(ref));
  } catch {
    return undefined;
  }
}

/** `sha256:<hex prefix>`, or a bare hex prefix of at least 4 characters (docker's short ids); otherwise undefined. */
function digestPrefix(ref: string): string | undefined {
  if (isDigest(ref)) return ref;
  const m = /^(?:sha256:)?([a-f0-9]{4,64})$/.exec(ref);
  return m ? `sha256:${m[1]}` : undefined;
}
