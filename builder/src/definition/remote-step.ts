/**
 * ADD's remote sources → source vertices: one HttpSource per URL, one
 * GitSource per git URL (remote-source.ts says which is which). They have no
 * inputs; the ADD's file vertex copies out of them. Each has an explain id
 * (`<step>#src<i>`), so a rebuild caused by a changed download or a new
 * commit is explained on the source (`content <url> changed`).
 */
import { DockerfileError, isDigest, type Digest } from '@tsbuild/core';
import type { Step } from '@tsbuild/dockerfile';
import type { OpDescription } from './ops.js';
import { remoteSourceOf } from './remote-source.js';
import type { NewVertex } from './types.js';

export interface RemoteEnv {
  file: string;
  /** The ADD step's explain id. */
  explainId: string;
  /** Adds a vertex to the definition (with the step's metadata); returns its index. */
  add: (v: NewVertex) => number;
}

/** Source string → the index of its vertex, in source order; empty for anything but ADD. */
export function remoteVertices(step: Step, env: RemoteEnv): Map<string, number> {
  const out = new Map<string, number>();
  if (step.expanded.kind !== 'ADD') return out;
  const e = step.expanded;
  const keepGitDir = step.instruction.kind === 'ADD' && step.instruction.keepGitDir === true;
  const count = e.sources.length + e.inlineFiles.filter((f) => !e.sources.includes(f.name)).length;
  if (count > 1 && e.sources.some((s) => remoteSourceOf(s)) && !/(^|\/)\.?$/.test(e.dest)) {
    throw new DockerfileError('When using ADD with more than one source file, the destination must be a directory and end with a /', env.file, step.range, {
      code: 'DOCKERFILE_INVALID',
    });
  }
  let i = 0;
  for (const src of e.sources) {
    const remote = remoteSourceOf(src);
    if (!remote || out.has(src)) continue;
    let op: OpDescription;
    let name: string;
    if (remote.kind === 'http') {
      const checksum = e.checksum === undefined ? undefined : parseChecksum(e.checksum, env.file, step);
      const spec = { url: remote.url, filename: remote.filename, ...(checksum ? { checksum } : {}) };
      op = { op: 'source', source: 'http', ...spec };
      name = `[internal] load remote ${remote.url}`;
    } else {
      if (e.checksum !== undefined) throw new DockerfileError('--checksum can only be used with HTTP(S) sources', env.file, step.range, { code: 'DOCKERFILE_INVALID' });
      const spec = { remote: remote.remote, ref: remote.ref, subdir: remote.subdir, keepGitDir };
      op = { op: 'source', source: 'git', ...spec };
      name = `[internal] load git source ${src}`;
    }
    out.set(src, env.add({ name, inputs: [], op, explainId: `${env.explainId}#src${i++}` }));
  }
  return out;
}

/** Source → input index, for sources appended after `before` inputs. */
export function remoteInputs(remotes: Map<string, number>, before: readonly number[]): Map<string, number> {
  return new Map([...remotes.keys()].map((src, i) => [src, before.length + i]));
}

/** `--checksum=sha256:<hex>` (BuildKit accepts a digest only). */
function parseChecksum(value: string, file: string, step: Step): Digest {
  if (!isDigest(value)) throw new DockerfileError(`invalid checksum digest format "${value}"`, file, step.range, { code: 'DOCKERFILE_INVALID' });
  return value;
}
