/**
 * The compressed variants of layers: "blob S re-encoded as compression C is
 * blob T", one small file per pair at `<root>/layer-variants/<C>/<hex of S>`,
 * so a push (in this process or a later one) does not compress a layer
 * again. GC treats them as part of their source: the mark phase keeps the
 * variants of every layer it keeps (gc/mark.ts), and prune drops entries
 * whose source or variant is gone; fsck reports entries naming a blob that
 * is missing or damaged. Written atomically but not flushed — losing one to
 * a crash only costs compressing that layer again.
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

  /** Every entry (for GC's mark, prune's sweep and fsck): its file, source, and variant (undefined when the file does not parse). */
  async *entries(): AsyncGenerator<{ path: string; source: Digest; variant: Variant | undefined }> {
    for (const compression of await this.compressions()) {
      for (const name of await readdir(join(this.dir, compression)).catch(() => [] as string[])) {
        const path = join(this.dir, compression, name);
        yield { path, source: `sha256:${name}` as Digest, variant: parse(await readFile(path, 'utf8').catch(() => '')) };
      }
    }
  }

  async remove(path: string): Promise<void> {
    await rm(path, { force: true });
  }

  /** Removes the entries whose source or converted blob is gone; returns how many. */
  async sweep(exists: (digest: Digest) => boolean): Promise<number> {
    let removed = 0;
    for await (const { path, source, variant } of this.entries()) {
      if (variant && exists(source) && exists(variant.digest)) continue;
      await this.remove(path);
      removed++;
    }
    return removed;
  }

  private async compressions(): Promise<string[]> {
    return readdir(this.dir).catch(() => [] as string[]);
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
