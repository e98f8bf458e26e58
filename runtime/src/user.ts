/**
 * USER resolution against the rootfs's /etc/passwd and /etc/group, with the
 * rules of runc's `GetExecUser` that BuildKit uses (`executor/oci/user.go`):
 * - `name` / `uid`: the passwd entry gives the gid; supplementary groups are
 *   the /etc/group entries that list the user name;
 * - an explicit group (`x:group` / `x:gid`) replaces the gid and adds no
 *   supplementary groups;
 * - a numeric uid or gid missing from the files is allowed (gid 0 by default);
 *   an unknown name is an InvalidArgumentError (code RUNTIME_UNKNOWN_USER).
 * And the user's home, which runc gives the process as HOME when its
 * environment has none or an empty one (libcontainer/env.go, prepareEnv and
 * getUserHome): the home field of the first passwd entry with the resolved
 * uid, `/` without one. The runtime must not be left to do it: crun sets no
 * HOME for a uid without a passwd entry.
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, resolveInRoot } from '@tsbuild/core';
import type { ResolvedUser } from './types.js';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const NUMERIC = /^\d+$/;

export function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.trim().split(':');
    if (f.length < 4 || line.startsWith('#') || !NUMERIC.test(f[2]!) || !NUMERIC.test(f[3]!)) return [];
    return [{ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' }];
  });
}

export function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.trim().split(':');
    if (f.length < 3 || line.startsWith('#') || !NUMERIC.test(f[2]!)) return [];
    return [{ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }];
  });
}

/** Pure resolution of a USER string given the parsed files. */
export function resolveUserFrom(spec: string | undefined, passwd: PasswdEntry[], groups: GroupEntry[]): ResolvedUser {
  const [userArg = '', groupArg] = (spec ?? '').split(/:(.*)/s, 2) as [string, string | undefined];
  const homeOf = (uid: number): string => passwd.find((p) => p.uid === uid)?.home ?? '/';
  if (userArg === '' && (groupArg === undefined || groupArg === '')) return { uid: 0, gid: 0, additionalGids: [], home: homeOf(0) };
  const entry = userArg === ''
    ? passwd.find((p) => p.uid === 0)
    : NUMERIC.test(userArg)
      ? passwd.find((p) => p.uid === Number(userArg))
      : passwd.find((p) => p.name === userArg);
  if (!entry && userArg !== '' && !NUMERIC.test(userArg)) {
    throw new InvalidArgumentError(`unable to find user ${userArg}: no matching entries in passwd file`, { code: 'RUNTIME_UNKNOWN_USER' });
  }
  const uid = entry?.uid ?? Number(userArg || 0);
  if (groupArg !== undefined && groupArg !== '') {
    const group = groups.find((g) => g.name === groupArg || String(g.gid) === groupArg);
    if (!group && !NUMERIC.test(groupArg)) {
      throw new InvalidArgumentError(`unable to find group ${groupArg}: no matching entries in group file`, { code: 'RUNTIME_UNKNOWN_USER' });
    }
    return { uid, gid: group?.gid ?? Number(groupArg), additionalGids: [], home: homeOf(uid) };
  }
  const additionalGids = entry ? groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid) : [];
  return { uid, gid: entry?.gid ?? 0, additionalGids, home: homeOf(uid) };
}

/**
 * Reads /etc/passwd and /etc/group from `rootfs` (never following a symlink
 * out of it) and resolves `spec`; read also for root, whose home is in passwd.
 */
export async function resolveUser(rootfs: string, spec: string | undefined): Promise<ResolvedUser> {
  const read = async (p: string) => readFile(await resolveInRoot(rootfs, p, { followFinal: true }), 'utf8').catch(() => '');
  const [passwd, group] = await Promise.all([read('/etc/passwd'), read('/etc/group')]);
  return resolveUserFrom(spec, parsePasswd(passwd), parseGroup(group));
}
