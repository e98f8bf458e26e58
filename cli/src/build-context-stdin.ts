/**
 * `tsbuild build -`: the build context arrives as a tar on stdin (plain,
 * gzip or zstd — openLayerStream sniffs it). It is unpacked with the store's
 * own safe tar applier into a temp directory under the store root (same
 * filesystem as the snapshots, and cleaned by whoever owns the root), and
 * removed after the build whatever its outcome.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { applyLayer, openLayerStream } from '@tsbuild/store';

export interface TempContext {
  dir: string;
  cleanup(): Promise<void>;
}

export async function unpackStdinContext(stdin: NodeJS.ReadableStream, root: string, signal: AbortSignal): Promise<TempContext> {
  const parent = join(root, 'tmp');
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, 'context-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  try {
    const tar = await openLayerStream(Readable.from(stdin as AsyncIterable<Buffer>), { signal });
    await applyLayer(dir, tar, { signal });
    return { dir, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Reads all of stdin as text (`-f -`). */
export async function readStdinText(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin as AsyncIterable<Buffer | string>) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}
