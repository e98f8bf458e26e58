/**
 * Where blobs are known to be in registries: "blob D is in repository R of
 * registry H", recorded when a pull fetches a blob (or finds it already in
 * the store) and when a push sends, mounts or finds it. A push reads it to
 * mount a blob from any repository of the same registry that holds it
 * instead of uploading it. One small JSON file per blob at
 * `<root>/blob-sources/<hex>`, `{ "<host>": ["<repo>", …] }` — containerd
 * keeps the same fact as a content label `containerd.io/distribution.source.<host>=<repo>,…`
 * (core/remotes/docker/handler.go, AppendDistributionSourceLabel).
 *
 * Only a hint: a mount the registry declines becomes an upload, so entries
 * are written atomically but not flushed, two processes adding at once may
 * lose one repository, and at most MAX_REPOSITORIES are kept per registry
 * (the newest). Prune drops the entries of blobs it removed.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, type Digest } from '@tsbuild/core';
import { writeFileAtomic } from './atomic-file.js';

/** Repositories remembered per registry and blob. */
const MAX_REPOSITORIES = 16;

export type BlobSourceMap = Record<string, string[]>;

export class BlobSources {
  private readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'blob-sources');
  }

  /** The registries (host[:port]) and their repositories that hold `digest`. */
  async get(digest: Digest): Promise<BlobSourceMap> {
    return parse(await readFile(this.path(digest), 'utf8').catch(() => ''));
  }

  /** Records that each of `digests` is in `repository` of `registry`. */
  async add(digests: readonly Digest[], registry: string, repository: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const digest of new Set(digests)) {
      const sources = await this.get(digest);
      const repos = sources[registry] ?? [];
      if (repos[repos.length - 1] === repository) continue;
      sources[registry] = [...repos.filter((r) => r !== repository), repository].slice(-MAX_REPOSITORIES);
      await writeFileAtomic(this.path(digest), JSON.stringify(sources), { durable: false });
    }
  }

  /** Removes the entries of blobs that are gone; returns how many. */
  async sweep(exists: (digest: Digest) => boolean): Promise<number> {
    let removed = 0;
    for (const name of await readdir(this.dir).catch(() => [] as string[])) {
      if (exists(`sha256:${name}` as Digest)) continue;
      await rm(join(this.dir, name), { force: true });
      removed++;
    }
    return removed;
  }

  private path(digest: Digest): string {
    return join(this.dir, digestHex(digest));
  }
}

function parse(text: string): BlobSourceMap {
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return {};
    return Object.fromEntries(Object.entries(v).filter((e): e is [string, string[]] => Array.isArray(e[1]) && e[1].every((r) => typeof r === 'string')));
  } catch {
    return {};
  }
}
