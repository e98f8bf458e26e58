/**
 * The git command line, for the git source: a runner that never prompts and
 * names the remote in its errors, and `pickRef`, the pure choice of a commit
 * from `git ls-remote` output.
 */
import { execFile } from 'node:child_process';
import { TsbuildError, isCanceled } from '@tsbuild/core';

/** A failed git command or an unresolvable ref; names the remote. */
export class GitSourceError extends TsbuildError {
  readonly remote: string;
  constructor(category: 'NotFound' | 'Unavailable' | 'InvalidArgument', message: string, remote: string, options: { code: string; cause?: unknown }) {
    super(category, message, options);
    this.remote = remote;
  }
}

export interface GitRunOptions {
  cwd?: string;
  signal: AbortSignal;
  /** For errors. */
  remote: string;
}

const GIT_ENV = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_ASKPASS: 'true',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  LC_ALL: 'C',
};

export function git(args: string[], o: GitRunOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-c', 'advice.detachedHead=false', '-c', 'init.defaultBranch=main', ...args],
      { cwd: o.cwd, signal: o.signal, env: { ...process.env, ...GIT_ENV }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        if (o.signal.aborted || isCanceled(err)) return reject(o.signal.reason ?? err);
        const detail = String(stderr).trim().split('\n').filter(Boolean).at(-1) ?? err.message;
        reject(new GitSourceError('Unavailable', `git ${args[0]} failed for ${o.remote}: ${detail}`, o.remote, { code: 'GIT_SOURCE_COMMAND', cause: err }));
      },
    );
  });
}

export interface PickedRef {
  commit: string;
  /** The full ref name to fetch (`refs/heads/main`), or undefined to fetch the commit itself. */
  fetchRef: string | undefined;
  /** The branch name when the ref is a branch (checked out by name with --keep-git-dir). */
  branch?: string;
}

const FULL_SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * The commit a ref names in `git ls-remote <remote>` output ("<sha>\t<ref>"
 * lines): an empty ref is HEAD; a full commit id is itself; otherwise, in
 * git's own order of precedence, `<ref>` as written, `refs/tags/<ref>`
 * (peeled, for annotated tags), `refs/heads/<ref>`. Undefined when none matches.
 */
export function pickRef(lsRemote: string, ref: string): PickedRef | undefined {
  if (FULL_SHA.test(ref)) return { commit: ref, fetchRef: undefined };
  const refs = new Map<string, string>();
  for (const line of lsRemote.split('\n')) {
    const [sha, name] = line.split('\t');
    if (sha && name) refs.set(name.trim(), sha.trim());
  }
  const wanted = ref === '' ? 'HEAD' : ref;
  for (const name of [wanted, `refs/tags/${wanted}`, `refs/heads/${wanted}`]) {
    const sha = refs.get(`${name}^{}`) ?? refs.get(name);
    if (sha === undefined) continue;
    if (name === 'HEAD') {
      const branch = [...refs].find(([n, s]) => s === sha && n.startsWith('refs/heads/'))?.[0];
      return branch ? { commit: sha, fetchRef: branch, branch: branch.slice('refs/heads/'.length) } : { commit: sha, fetchRef: 'HEAD' };
    }
    return name.startsWith('refs/heads/') ? { commit: sha, fetchRef: name, branch: name.slice('refs/heads/'.length) } : { commit: sha, fetchRef: name };
  }
  return undefined;
}
