/**
 * `--chown=user:group` resolution against the image's own /etc/passwd and
 * /etc/group (read in-root: a symlinked /etc cannot point at the host's).
 * Numeric ids pass through without reading anything (a UID alone is also the
 * GID); a user name without a group gets the user's primary gid; `:group` is
 * root with that group — BuildKit's rules. Unknown names are
 * UnknownOwnerError ("unable to find user app").
 */
import { readFile } from 'node:fs/promises';
import { throwIfAborted } from '@tsbuild/core';
import { resolveInRoot } from '@tsbuild/core';
import { UnknownOwnerError } from './errors.js';

export async function resolveOwner(root: string, spec: string, options: { signal?: AbortSignal } = {}): Promise<{ uid: number; gid: number }> {
  throwIfAborted(options.signal);
  const [user = '', group] = spec.split(':', 2);
  let uid: number;
  let primaryGid: number | undefined;
  if (user === '') {
    uid = 0; // `--chown=:group`: BuildKit finds no user named "" and keeps uid 0
  } else if (/^\d+$/.test(user)) {
    // A UID without a group uses the same number as GID (BuildKit's ByID; passwd is not read).
    uid = Number(user);
  } else {
    const entry = (await readDb(root, 'etc/passwd', options.signal)).find((f) => f[0] === user);
    if (!entry) throw new UnknownOwnerError('user', user);
    uid = Number(entry[2]);
    primaryGid = Number(entry[3]);
  }
  if (group === undefined) return { uid, gid: primaryGid ?? uid };
  if (/^\d+$/.test(group)) return { uid, gid: Number(group) };
  const entry = (await readDb(root, 'etc/group', options.signal)).find((f) => f[0] === group);
  if (!entry) throw new UnknownOwnerError('group', group);
  return { uid, gid: Number(entry[2]) };
}

/** The colon-separated records of a passwd-format file; a missing file has none. */
async function readDb(root: string, rel: string, signal: AbortSignal | undefined): Promise<string[][]> {
  const host = await resolveInRoot(root, rel, { followFinal: true });
  let text: string;
  try {
    text = await readFile(host, { encoding: 'utf8', signal });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(':'));
}
