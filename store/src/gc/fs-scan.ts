import { readdir, lstat } from 'node:fs/promises';
import { join } from 'node:path';

export interface ScannedFile {
  path: string;
  size: number;
  mtimeMs: number;
}

/** The regular files directly inside `dir` (none when it does not exist). */
export async function filesIn(dir: string): Promise<ScannedFile[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: ScannedFile[] = [];
  for (const name of names) {
    const st = await lstat(join(dir, name)).catch(() => undefined);
    if (st?.isFile()) out.push({ path: join(dir, name), size: st.size, mtimeMs: st.mtimeMs });
  }
  return out;
}

/** Bytes under `dir`, recursively, counting each file's own size (not following symlinks). */
export async function treeBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) total += await treeBytes(p);
    else total += (await lstat(p).catch(() => undefined))?.size ?? 0;
  }
  return total;
}

/** Ingest files older than `maxAgeMs`: writes that crashed or were abandoned. */
export async function ingestLeftovers(root: string, maxAgeMs: number, now = Date.now()): Promise<ScannedFile[]> {
  return (await filesIn(join(root, 'ingest'))).filter((f) => now - f.mtimeMs >= maxAgeMs);
}

export const ONE_HOUR_MS = 60 * 60 * 1000;
