/**
 * One build's view of its context checksums, with the context watcher's
 * memo: a no-op rebuild of an unchanged context reuses the previous build's
 * checksum results instead of walking (and lstat'ing) the whole tree.
 *
 * Before each walk the build asks the watcher (client.ts) for
 * `(daemonId, generation)`. The memo `<storeRoot>/cache/context-memo/<sha256(contextDir)>.json`
 * holds the pair an earlier build read before *its* walks and the results it
 * got, per selection (patterns, --exclude, the .dockerignore rules, hash
 * mode). Same pair: nothing under the root changed since that build asked,
 * so its results are today's. Otherwise the build walks as before and
 * records the pair it read before walking: a change during the walk bumps
 * the generation past it, and the next build walks again.
 *
 * The memo file is small (a digest per selection); each selection's
 * path → checksum map, which a cache key needs only through its digest and
 * an explained miss needs in full, is kept in
 * `context-memo/<sha256(contextDir)>.files/<contentDigest hex>.json` and read
 * only when something looks at it (a lazy map that carries its digest under
 * CONTENT_DIGEST, as checksumContext's maps do). A map that cannot be read
 * at the moment it is needed fails that build with a plain error (only
 * possible when the store's cache directory is removed under a running
 * build).
 *
 * Neither file is fsynced: after a machine crash every daemon is gone, and
 * with it the (id, generation) pair any memo could match.
 *
 * The checksum cache (stat-keyed, `<root>/cache/checksums`) is opened only
 * when a walk is needed: a no-op does not load it.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, digestHex, type Digest } from '@tsbuild/core';
import { writeFileAtomic } from '@tsbuild/store';
import { PatternMatcher } from '@tsbuild/dockerfile';
import { checksumContext, CHECKSUM_VERSION, type ChecksumContextOptions, type ContextChecksum } from '../checksum.js';
import type { ChecksumCache } from '../checksum-cache.js';
import type { PathMatcher } from '../exclude-matcher.js';
import type { ContextWatchClient } from './client.js';

/** checksumContext's signature: what file and exec ops call to checksum context sources. */
export type ContextSummer = (options: ChecksumContextOptions) => Promise<ContextChecksum>;

/**
 * Bump when what a memo entry means changes (checksumContext's own
 * CHECKSUM_VERSION is part of every entry's key: a daemon outlives an
 * upgrade of tsbuild, and its memo must not be read by a newer one).
 */
const MEMO_FORMAT = 'tsbuild.context-memo.v1';
/** Where checksumContext (and cache keys) carry a map's content digest. */
const CONTENT_DIGEST = Symbol.for('tsbuild.contentDigest');
/** Files of unreferenced maps are removed once this old (concurrent builds may still be about to read them). */
const FILES_GRACE_MS = 60 * 60_000;

interface MemoEntry {
  /** ContextChecksum.digest. */
  digest: Digest;
  /** The files map's content digest (its file's name). */
  files: Digest;
}

interface Memo {
  v: typeof MEMO_FORMAT;
  contextDir: string;
  id: string;
  gen: number;
  entries: Record<string, MemoEntry>;
}

export interface ContextSessionOptions {
  storeRoot: string;
  contextDir: string;
  /** The watcher of contextDir (undefined: no memo, every checksum walks). */
  watch: ContextWatchClient | undefined;
  /** Opens the stat-keyed checksum cache (only when a walk is needed). */
  openCache: () => Promise<ChecksumCache>;
}

export class ContextSession {
  private cache: Promise<ChecksumCache> | undefined;
  private asked = false;
  private memo: Memo | undefined;
  private memoRead = false;
  private dirty = false;
  private readonly pending = new Map<Digest, Record<string, string>>();
  private readonly memoDir: string;
  private readonly memoFile: string;
  private readonly filesDir: string;
  /** Selections served from the memo and walked in this build (for tests and timing). */
  readonly stats = { memoHits: 0, walks: 0 };

  constructor(private readonly o: ContextSessionOptions) {
    const hex = digestHex(sha256(o.contextDir));
    this.memoDir = join(o.storeRoot, 'cache', 'context-memo');
    this.memoFile = join(this.memoDir, `${hex}.json`);
    this.filesDir = join(this.memoDir, `${hex}.files`);
  }

  /** The opened checksum cache, if a walk opened it. */
  openedCache(): Promise<ChecksumCache> | undefined {
    return this.cache;
  }

  /** checksumContext through the memo (for this session's context; any other directory just walks). */
  readonly checksum: ContextSummer = async (options) => {
    const walk = async (): Promise<ContextChecksum> => {
      this.stats.walks++;
      return checksumContext({ ...options, cache: await (this.cache ??= this.o.openCache()) });
    };
    const key = options.contextDir === this.o.contextDir && this.o.watch ? memoKey(options) : undefined;
    if (key === undefined) return walk();
    // Asked before every walk (the first time waiting for a daemon that is starting): an entry recorded under
    // a pair was walked after the pair was read, and holds for as long as the daemon answers that pair.
    const first = this.asked === false;
    this.asked = true;
    const state = await this.o.watch!.state(first ? 300 : 0);
    if (!state) return walk();
    const memo = this.loadMemo();
    const entry = memo && memo.id === state.id && memo.gen === state.gen ? memo.entries[key] : undefined;
    if (entry) {
      const files = this.lazyFiles(entry.files);
      if (files) {
        this.stats.memoHits++;
        return { digest: entry.digest, files };
      }
    }
    const result = await walk();
    const carried = (result.files as { [CONTENT_DIGEST]?: unknown })[CONTENT_DIGEST];
    if (typeof carried !== 'string') return result;
    if (!this.memo || this.memo.id !== state.id || this.memo.gen !== state.gen) {
      this.memo = { v: MEMO_FORMAT, contextDir: this.o.contextDir, id: state.id, gen: state.gen, entries: {} };
    }
    this.memo.entries[key] = { digest: result.digest, files: carried as Digest };
    this.pending.set(carried as Digest, result.files);
    this.dirty = true;
    return result;
  };

  /** Writes what this build learnt (the maps first, then the memo naming them); nothing on a no-op. Never throws. */
  async save(): Promise<void> {
    try {
      if (this.cache) await (await this.cache).save();
    } catch {
      // an accelerator
    }
    if (!this.dirty || !this.memo) return;
    try {
      mkdirSync(this.filesDir, { recursive: true });
      for (const [digest, files] of this.pending) {
        const path = this.filesPath(digest);
        if (!exists(path)) await writeFileAtomic(path, JSON.stringify(files), { durable: false });
      }
      await writeFileAtomic(this.memoFile, JSON.stringify(this.memo), { durable: false });
      this.dirty = false;
      this.removeOldMaps(new Set(Object.values(this.memo.entries).map((e) => digestHex(e.files))));
    } catch {
      // the memo is an accelerator: the next build walks
    }
  }

  private filesPath(digest: Digest): string {
    return join(this.filesDir, `${digestHex(digest)}.json`);
  }

  private loadMemo(): Memo | undefined {
    if (this.memoRead) return this.memo;
    this.memoRead = true;
    try {
      const m = JSON.parse(readFileSync(this.memoFile, 'utf8')) as Memo;
      if (m && m.v === MEMO_FORMAT && m.contextDir === this.o.contextDir && typeof m.id === 'string' && typeof m.gen === 'number' && m.entries && typeof m.entries === 'object') {
        this.memo = m;
      }
    } catch {
      // none yet, or unreadable: walk
    }
    return this.memo;
  }

  /**
   * The map of a memo entry, read when first looked at; undefined when its
   * file is not there (walk instead). Its content digest is known without
   * reading it, and checked when it is read.
   */
  private lazyFiles(digest: Digest): Record<string, string> | undefined {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) return undefined;
    const path = this.filesPath(digest);
    if (!exists(path)) return undefined;
    let loaded: Record<string, string> | undefined;
    const load = (): Record<string, string> => {
      if (loaded) return loaded;
      let map: unknown;
      try {
        map = JSON.parse(readFileSync(path, 'utf8'));
      } catch (err) {
        throw new Error(`context memo: cannot read ${path} (${(err as Error).message}); build again`, { cause: err });
      }
      if (!map || typeof map !== 'object' || Array.isArray(map) || digestOfMap(map as Record<string, string>) !== digest) {
        rmSync(this.memoFile, { force: true });
        throw new Error(`context memo: ${path} does not hold the map it names; build again`);
      }
      return (loaded = map as Record<string, string>);
    };
    return new Proxy({} as Record<string, string>, {
      get: (_t, p) => (p === CONTENT_DIGEST ? digest : Reflect.get(load(), p)),
      has: (_t, p) => p === CONTENT_DIGEST || Reflect.has(load(), p),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_t, p) => {
        if (p === CONTENT_DIGEST) return { value: digest, writable: false, enumerable: false, configurable: true };
        const d = Reflect.getOwnPropertyDescriptor(load(), p);
        return d ? { ...d, configurable: true } : undefined;
      },
      set: () => false,
      defineProperty: () => false,
      deleteProperty: () => false,
    });
  }

  /** Maps of this context no memo entry names, older than the grace period. */
  private removeOldMaps(keep: Set<string>): void {
    for (const name of readdirSync(this.filesDir)) {
      if (keep.has(name.replace(/\.json$/, ''))) continue;
      const path = join(this.filesDir, name);
      try {
        if (Date.now() - statSync(path).mtimeMs > FILES_GRACE_MS) rmSync(path, { force: true });
      } catch {
        // gone
      }
    }
  }
}

/** The memo key of a selection; undefined when it cannot be named exactly (an ignore matcher of unknown rules). */
export function memoKey(o: ChecksumContextOptions): string | undefined {
  const ignore = ignoreKey(o.ignore);
  if (ignore === undefined) return undefined;
  return JSON.stringify([CHECKSUM_VERSION, o.patterns, o.exclude ?? [], ignore, o.mode ?? 'exact', ...(o.parents ? ['parents'] : [])]);
}

function ignoreKey(m: PathMatcher | undefined): string[] | null | undefined {
  if (m === undefined) return null;
  if (!(m instanceof PatternMatcher)) return undefined;
  return m.patterns.map((p) => `${p.exclusion ? '!' : ''}${p.cleaned}`);
}

/** The digest cache keys take of a content map (solver contentDigestOf): its sorted [path, checksum] pairs. */
function digestOfMap(map: Record<string, string>): Digest {
  const paths = Object.keys(map).sort();
  return sha256(JSON.stringify(paths.map((p) => [p, map[p]])));
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
