/**
 * Git source (`ADD <git url>#ref[:subdir]`): the tree of one commit, or of a
 * directory in it, without `.git` unless `--keep-git-dir`.
 *
 * Key: the commit, resolved at solve time with `git ls-remote` (a full commit
 * id is taken as is), plus the subdir and keep-git-dir: a new commit on the
 * branch rebuilds (explained as a content change of `<remote>#<ref>`), an
 * unchanged branch hits without fetching anything.
 * Exec: `git init` + `git fetch --depth 1 <remote> <ref>` + checkout in a
 * temp dir (submodules too), then the tree is copied into a fresh snapshot.
 * Every mtime is set to the commit time (BuildKit's `git.mtime=commit`, the
 * reproducible choice): the same commit always makes the same layer.
 */
import { cp, lstat, lutimes, mkdtemp, readdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { DockerfileError, isCanceled, TsbuildError } from '@tsbuild/core';
import type { GitSourceSpec } from '../definition/ops.js';
import type { CacheMap, CacheMapContext, ExecContext, Op } from '../solver/index.js';
import { git, GitSourceError, pickRef, type PickedRef } from './git-cli.js';
import type { SourceEnv } from './http-source-op.js';
import { sourceSnapshot } from './source-snapshot.js';
import type { LayerResult } from './types.js';
import type { Worker } from './worker.js';

export class GitSourceOp implements Op<LayerResult> {
  private resolved: Promise<PickedRef> | undefined;

  constructor(
    private readonly w: Worker,
    readonly spec: GitSourceSpec,
    private readonly env: SourceEnv,
  ) {}

  async cacheMap(ctx: CacheMapContext): Promise<CacheMap> {
    const { remote, ref, subdir, keepGitDir } = this.spec;
    const picked = await this.resolve(ctx.signal);
    return { definition: { source: 'git', remote, ref, subdir, keepGitDir }, content: { [`${remote}#${ref}`]: picked.commit } };
  }

  async exec(_inputs: unknown[], ctx: ExecContext): Promise<LayerResult> {
    const picked = await this.resolve(ctx.signal);
    const work = await mkdtemp(join(tmpdir(), 'tsbuild-git-'));
    try {
      const commitTime = await this.located(() => this.checkout(work, picked, ctx.signal));
      const from = await this.located(() => this.subdirOf(work));
      return await sourceSnapshot(this.w, 'git', ctx, async (root) => {
        const keepGit = this.spec.keepGitDir && this.spec.subdir === '';
        await cp(from, root, { recursive: true, verbatimSymlinks: true, filter: (src) => keepGit || !isGitDir(from, src) });
        await setTimes(root, commitTime);
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  private resolve(signal: AbortSignal): Promise<PickedRef> {
    this.resolved ??= this.located(async () => {
      const { remote, ref } = this.spec;
      const out = /^[0-9a-f]{40}$/.test(ref) ? '' : await git(['ls-remote', '--', remote, ...(ref === '' ? ['HEAD', 'refs/heads/*'] : [])], { signal, remote });
      const picked = pickRef(out, ref);
      if (!picked) throw new GitSourceError('NotFound', `git ref "${ref}" not found in ${remote}`, remote, { code: 'GIT_SOURCE_REF_NOT_FOUND' });
      return picked;
    });
    return this.resolved;
  }

  /** Fetches and checks out the commit in `dir`; returns the commit time (seconds). */
  private async checkout(dir: string, picked: PickedRef, signal: AbortSignal): Promise<number> {
    const { remote, keepGitDir } = this.spec;
    const run = (args: string[]) => git(args, { cwd: dir, signal, remote });
    await run(['init', '-q']);
    await run(['remote', 'add', 'origin', remote]);
    let fetched = false;
    if (picked.fetchRef !== undefined) {
      const dest = picked.branch !== undefined ? `refs/remotes/origin/${picked.branch}` : picked.fetchRef === 'HEAD' ? 'refs/tsbuild/head' : picked.fetchRef;
      await run(['fetch', '-q', '--depth', '1', '--no-tags', 'origin', `+${picked.fetchRef}:${dest}`]);
      fetched = (await run(['rev-parse', 'FETCH_HEAD^{commit}'])).trim() === picked.commit;
    }
    // A full commit id, or a ref that moved since ls-remote: fetch the commit itself.
    if (!fetched) await run(['fetch', '-q', '--depth', '1', '--no-tags', 'origin', picked.commit]);
    if (keepGitDir && picked.branch !== undefined) await run(['checkout', '-q', '-B', picked.branch, picked.commit]);
    else await run(['checkout', '-q', '--detach', picked.commit]);
    if (await exists(join(dir, '.gitmodules'))) await run(['submodule', 'update', '-q', '--init', '--recursive', '--depth', '1']);
    return Number((await run(['log', '-1', '--format=%ct', picked.commit])).trim());
  }

  /** The directory to copy: the checkout, or the subdir inside it (never outside, even through symlinks). */
  private async subdirOf(work: string): Promise<string> {
    if (this.spec.subdir === '') return work;
    const { remote, subdir } = this.spec;
    let real: string;
    try {
      real = await realpath(join(work, subdir));
    } catch {
      throw new GitSourceError('NotFound', `subdirectory "${subdir}" not found in ${remote}`, remote, { code: 'GIT_SOURCE_SUBDIR_NOT_FOUND' });
    }
    const rel = relative(await realpath(work), real);
    if (rel.startsWith('..') || !(await lstat(real)).isDirectory()) {
      throw new GitSourceError('InvalidArgument', `subdirectory "${subdir}" of ${remote} is not a directory in the repository`, remote, { code: 'GIT_SOURCE_SUBDIR_INVALID' });
    }
    return real;
  }

  private async located<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isCanceled(err) || !(err instanceof TsbuildError) || err instanceof DockerfileError) throw err;
      throw new DockerfileError(err.message, this.env.file, this.env.range, { code: err.code, cause: err });
    }
  }
}

function isGitDir(root: string, src: string): boolean {
  const rel = relative(root, src);
  return rel === '.git' || rel.startsWith(`.git${sep}`);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}

/** Sets every mtime under `dir` (itself included, symlinks not followed), children first. */
async function setTimes(dir: string, seconds: number): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await setTimes(p, seconds);
    else await lutimes(p, seconds, seconds);
  }
  await lutimes(dir, seconds, seconds);
}
