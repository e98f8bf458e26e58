/**
 * The memo of layer conversions: "blob S re-encoded as compression C is blob
 * T", one small file per pair at `<root>/layer-variants/<C>/<hex of S>`.
 * It names blobs without keeping them alive: an entry whose blob was pruned
 * reads as absent (and prune drops it). Written atomically but not flushed —
 * losing one to a crash only costs compressing that layer again.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { digestHex, isDigest, type Compression, type Descriptor, type Digest } from '@tsbuild/core';
import { writeFileAtomic } from '../content/atomic-file.js';
import type { ContentProvider } from '../types.js';

interface Variant {
  digest: Digest;
  size: number;
}

export class LayerVariants {
  private readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'layer-variants');
  }

  /** The converted blob of `source` in `compression`, if it was made and is still in `content`. */
  async get(source: Digest, compression: Compression, content: Pick<ContentProvider, 'info'>): Promise<Variant | undefined> {
    const text = await readFile(this.path(source, compression), 'utf8').catch(() => undefined);
    const v = text === undefined ? undefined : parse(text);
    if (!v) return undefined;
    const info = await content.info(v.digest).catch(() => undefined);
    return info?.size === v.size ? v : undefined;
  }

  async put(source: Digest, compression: Compression, target: Pick<Descriptor, 'digest' | 'size'>): Promise<void> {
    const path = this.path(source, compression);
    await mkdir(join(this.dir, compression), { recursive: true });
    await writeFileAtomic(path, JSON.stringify({ digest: target.digest, size: target.size }), { durable: false });
  }

  /** Removes the entries whose source or converted blob is gone; returns how many. */
  async sweep(exists: (digest: Digest) => boolean): Promise<number> {
    let removed = 0;
    for (const compression of await readdir(this.dir).catch(() => [] as string[])) {
      for (const name of await readdir(join(this.dir, compression)).catch(() => [] as string[])) {
        const path = join(this.dir, compression, name);
        const v = parse(await readFile(path, 'utf8').catch(() => ''));
        if (v && exists(`sha256:${name}` as Digest) && exists(v.digest)) continue;
        await rm(path, { force: true });
        removed++;
      }
    }
    return removed;
  }

  private path(source: Digest, compression: Compression): string {
    return join(this.dir, compression, digestHex(source));
  }
}

function parse(text: string): Variant | undefined {
  try {
    const v = JSON.parse(text) as Partial<Variant>;
    return typeof v.digest === 'string' && isDigest(v.digest) && typeof v.size === 'number' ? { digest: v.digest, size: v.size } : undefined;
  } catch {
    return undefined;
  }
}
