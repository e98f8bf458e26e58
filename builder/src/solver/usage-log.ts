/**
 * Cache hits, recorded cheaply: one line `<key hex> <ms since epoch> <uses>`
 * appended to `<cacheDir>/usage.log` per hit, instead of rewriting the hit's
 * record (temp file + rename of a JSON that may hold a 64-path content map).
 * Hits arriving while an append is in flight are batched into the next one,
 * so a fully cached build of 30 steps costs one or two appends.
 *
 * Crash-safe: an append of a few hundred bytes lands whole or not at all in
 * practice, and a torn or garbled line is skipped when read (a lost hit only
 * makes a record look older than it is). `compact` folds the log into one
 * line per key (dropping keys that are gone) and renames it into place; a hit
 * appended by another process between its read and its rename is lost, the
 * same harmless kind of loss.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Replaces a file whole (temp file + rename): FileCacheStorage passes the store's writeFileAtomic. */
export type ReplaceFile = (path: string, text: string) => Promise<void>;

export interface KeyUsage {
  /** Milliseconds since the epoch of the last recorded hit. */
  lastUsedMs: number;
  /** Hits recorded. */
  uses: number;
}

export class UsageLog {
  private pending: string[] = [];
  private flushing: Promise<void> | undefined;

  constructor(readonly path: string, private readonly replace: ReplaceFile) {}

  /** Records a hit of `hex` (a key's hex digest); resolves once it is in the file. */
  record(hex: string, atMs = Date.now()): Promise<void> {
    this.pending.push(`${hex} ${atMs} 1\n`);
    return this.flush();
  }

  /** Every key's usage; an absent log is an empty map. */
  async read(): Promise<Map<string, KeyUsage>> {
    const text = await readFile(this.path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    const usage = new Map<string, KeyUsage>();
    for (const line of text.split('\n')) {
      const m = /^([0-9a-f]{64}) (\d{1,15}) (\d{1,9})$/.exec(line);
      if (!m) continue; // torn by a crash, or empty
      const [, hex, ms, uses] = m as unknown as [string, string, string, string];
      const u = usage.get(hex) ?? { lastUsedMs: 0, uses: 0 };
      usage.set(hex, { lastUsedMs: Math.max(u.lastUsedMs, Number(ms)), uses: u.uses + Number(uses) });
    }
    return usage;
  }

  /** Rewrites the log as one line per key that `keep` accepts. */
  async compact(keep: (hex: string) => boolean): Promise<void> {
    await this.flushing;
    const usage = await this.read();
    const lines = [...usage].filter(([hex]) => keep(hex)).map(([hex, u]) => `${hex} ${u.lastUsedMs} ${u.uses}\n`);
    await this.replace(this.path, lines.join(''));
  }

  /** One append at a time; what arrives meanwhile goes in the next. */
  private flush(): Promise<void> {
    this.flushing ??= (async () => {
      try {
        while (this.pending.length > 0) {
          const batch = this.pending.join('');
          this.pending = [];
          await mkdir(dirname(this.path), { recursive: true });
          await appendFile(this.path, batch);
        }
      } finally {
        this.flushing = undefined;
      }
    })();
    return this.flushing;
  }
}
