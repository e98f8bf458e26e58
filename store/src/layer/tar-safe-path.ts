/**
 * Path safety for applying untrusted layers: an entry's path is reduced to
 * plain components inside the root, and its parents are resolved one
 * component at a time with lstat — a symlink among the parents is refused,
 * never followed or realpath'ed (it could point anywhere on the host).
 *
 * Choices: `./` and empty components are dropped; any `..` component is
 * refused (even when it would stay inside, as `a/../b`: no legitimate layer
 * writer produces one); a leading `/` is stripped and the path is taken
 * relative to the root, like docker — the caller is told, to warn.
 */
import { lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { UnsafeLayerEntryError } from './tar-errors.js';

export interface EntryPath {
  /** Components below the root; empty for the root itself. */
  components: string[];
  /** `components.join('/')`: the key for "written by this layer". */
  rel: string;
  /** The path was absolute (its leading `/` was stripped). */
  absolute: boolean;
}

export function normalizeEntryPath(raw: string, entry = raw): EntryPath {
  if (raw.includes('\0')) throw new UnsafeLayerEntryError(entry, 'path contains a NUL byte');
  const components: string[] = [];
  for (const c of raw.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') throw new UnsafeLayerEntryError(entry, "path contains '..'");
    components.push(c);
  }
  return { components, rel: components.join('/'), absolute: raw.startsWith('/') };
}

export interface ResolveOptions {
  /** Create missing parents (mode 0755) instead of reporting them missing. */
  create: boolean;
  /** Called with the rel path of every parent this call created. */
  onCreate?: (rel: string) => void;
}

/**
 * The absolute path of the directory that holds `components`' last element,
 * or undefined when a parent is missing and `create` is false. Throws
 * UnsafeLayerEntryError when a parent is a symlink or not a directory.
 */
export async function resolveParent(root: string, components: readonly string[], entry: string, options: ResolveOptions): Promise<string | undefined> {
  let current = root;
  for (let i = 0; i < components.length - 1; i++) {
    const next = join(current, components[i]!);
    // Synchronous: one short syscall per component, cheaper than a thread-pool trip (see tar-apply-entry.ts).
    const stat = lstatSync(next, { throwIfNoEntry: false });
    if (stat === undefined) {
      if (!options.create) return undefined;
      mkdirSync(next, { mode: 0o755 });
      options.onCreate?.(components.slice(0, i + 1).join('/'));
    } else if (stat.isSymbolicLink()) {
      throw new UnsafeLayerEntryError(entry, `parent ${components.slice(0, i + 1).join('/')} is a symlink`);
    } else if (!stat.isDirectory()) {
      throw new UnsafeLayerEntryError(entry, `parent ${components.slice(0, i + 1).join('/')} is not a directory`);
    }
    current = next;
  }
  return current;
}
