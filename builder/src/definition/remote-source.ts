/**
 * Which ADD sources are remote, after BuildKit's rules (dockerfile2llb
 * `isHTTPSource` and `gitutil.ParseGitRef`):
 * - a git source is `git://…`, `ssh://…`, scp-like `user@host:path`, or an
 *   http(s) URL whose path ends in `.git`; an optional fragment `#ref[:subdir]`
 *   names the branch, tag or commit and a directory in it. The ambiguous
 *   `github.com/org/repo` form stays a local path (BuildKit accepts it only
 *   for build contexts);
 * - any other `http://` / `https://` source is an HTTP source, downloaded as
 *   one file named after the last segment of the URL path (`__unnamed__`
 *   when there is none) and never extracted.
 * Pure functions: no I/O.
 */
import { posix } from 'node:path';

export interface GitRef {
  /** The remote as git is given it (no fragment). */
  remote: string;
  /** Branch, tag or commit; empty for the remote's HEAD. */
  ref: string;
  /** A directory inside the repository, without leading or trailing `/`; empty for the root. */
  subdir: string;
}

export type RemoteSource = { kind: 'http'; url: string; filename: string } | ({ kind: 'git' } & GitRef);

const SCP_LIKE = /^[A-Za-z0-9_.+-]+@[A-Za-z0-9_.-]+:(?!\/\/)/;

/** The git reference of a source, or undefined when it is not a git URL. */
export function parseGitRef(src: string): GitRef | undefined {
  const hash = src.indexOf('#');
  const remote = hash < 0 ? src : src.slice(0, hash);
  const fragment = hash < 0 ? '' : src.slice(hash + 1);
  if (remote === '') return undefined;
  if (/^https?:\/\//i.test(remote)) {
    let path: string;
    try {
      path = new URL(remote).pathname;
    } catch {
      return undefined;
    }
    if (!path.endsWith('.git')) return undefined;
  } else if (!/^(git|ssh):\/\//i.test(remote) && !SCP_LIKE.test(remote)) {
    return undefined;
  }
  const colon = fragment.indexOf(':');
  const ref = colon < 0 ? fragment : fragment.slice(0, colon);
  const rawSubdir = colon < 0 ? '' : fragment.slice(colon + 1);
  const subdir = rawSubdir === '' ? '' : posix.normalize(`/${rawSubdir}`).replace(/^\/+|\/+$/g, '');
  return { remote, ref, subdir };
}

/** The remote kind of an ADD source, or undefined for a local (context) source. */
export function remoteSourceOf(src: string): RemoteSource | undefined {
  const git = parseGitRef(src);
  if (git) return { kind: 'git', ...git };
  if (!/^https?:\/\//i.test(src)) return undefined;
  return { kind: 'http', url: src, filename: httpFilename(src) };
}

/** BuildKit's file name for a downloaded URL: `path.Base` of the URL path, or `__unnamed__`. */
export function httpFilename(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return '__unnamed__';
  }
  const base = posix.basename(posix.normalize(decodeURIComponentSafe(path)));
  return base === '' || base === '.' || base === '/' || base === '..' ? '__unnamed__' : base;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
