/**
 * Issue 12: the build definition is data. A definition of a Dockerfile using
 * every op kind survives JSON unchanged and passes the check of a definition
 * from outside; two definitions of one Dockerfile are equal; a changed build
 * arg changes exactly the vertices it reaches; a tampered or malformed
 * definition is refused; vertex digests (which cache keys contain) are those
 * of the code before descriptions existed.
 * Pure: no store, no root (images are resolved by a fixed table).
 */
import { expect } from 'chai';
import type { ImageConfig, Platform } from '@tsbuild/core';
import { parseInstructions, stageGraphFromInstructions } from '@tsbuild/dockerfile';
import { buildDefinition, checkDefinition, diffDefinitions, opKind, type Definition, type ResolvedBase } from '../src/index.js';

const PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };
const CONFIG: ImageConfig = { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'] }, rootfs: { type: 'layers', diff_ids: [] } };
const BUSYBOX: ResolvedBase = {
  ref: 'docker.io/library/busybox:latest', manifestDigest: `sha256:${'1'.repeat(64)}`, platform: 'linux/amd64',
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${'2'.repeat(64)}`, size: 1 }], diffIDs: [`sha256:${'3'.repeat(64)}`], config: CONFIG,
};

/** Every kind of op: image, local context, http, git, exec (all mount types, a heredoc script), file (copy, mkdir, mkfile), merge. */
const ALL_OPS = `# syntax=docker/dockerfile:1
FROM busybox AS a
ARG V=1
RUN echo $V > /v
RUN --mount=type=secret,id=s,target=/s --mount=type=ssh --mount=type=cache,target=/c --mount=type=tmpfs,target=/t --mount=type=bind,from=b,target=/b cat /b/x
FROM scratch AS b
COPY <<EOF2 /x
hello
EOF2
FROM busybox
WORKDIR /app
COPY --link --from=a /v /v
COPY --from=b /x /y
COPY --from=ctx / /ctx/
ADD https://example.com/f.txt /f
ADD --keep-git-dir https://example.com/r.git#main:sub /g/
RUN <<EOF3
#!/bin/sh
echo hi
EOF3
COPY --chown=1:1 --chmod=600 . /src
`;

function definitionOf(text: string, o: { buildArgs?: Record<string, string>; noCacheStages?: string[]; epoch?: number } = {}): Definition {
  const parsed = parseInstructions(text, { file: 'Dockerfile' });
  const graph = stageGraphFromInstructions(parsed, { file: 'Dockerfile', platform: { build: PLATFORM, target: PLATFORM }, buildArgs: o.buildArgs ?? {}, baseImageConfig: () => CONFIG });
  return buildDefinition({
    graph, file: 'Dockerfile', images: new Map([['busybox', BUSYBOX]]), locals: new Map([['ctx', { name: 'ctx' }]]),
    network: 'host', allowInsecure: false, sourceDateEpoch: o.epoch, noCacheStages: o.noCacheStages,
  });
}

const roundTrip = (d: Definition): unknown => JSON.parse(JSON.stringify(d));

describe('definition: plain data (issue 12)', () => {
  it('holds every kind of op, survives a JSON round trip unchanged and passes the check', () => {
    const d = definitionOf(ALL_OPS, { epoch: 1_700_000_000 });
    expect(new Set(d.vertices.map((v) => opKind(v.op)))).to.deep.equal(new Set(['image', 'local', 'http', 'git', 'exec', 'file', 'merge']));
    expect(roundTrip(d), 'no field JSON would drop or change').to.deep.equal(d);
    const back = checkDefinition(roundTrip(d));
    expect(back).to.deep.equal(d);
    expect(back.vertices.map((v) => v.digest)).to.deep.equal(d.vertices.map((v) => v.digest));
    expect(back.target).to.equal(d.vertices.length - 1);
  });

  it('names secrets and ssh agents by id, never their values', () => {
    const run = definitionOf(ALL_OPS).vertices.find((v) => v.op.op === 'exec' && v.op.mounts.some((m) => m.type === 'secret'))!;
    expect(run.op.op === 'exec' && run.op.mounts.filter((m) => m.type === 'secret' || m.type === 'ssh')).to.deep.equal([
      { type: 'secret', id: 's', target: '/s', required: false },
      { type: 'ssh', id: 'default', required: false },
    ]);
  });

  it('keeps the vertex digests cache keys were made with before descriptions existed', () => {
    // Computed by the code of c27967c (ops built directly, digest over the same objects) for this Dockerfile:
    // a change here changes every cache key, and needs CACHE_KEY_VERSION bumped.
    const d = definitionOf(ALL_OPS, { epoch: 1_700_000_000 });
    expect(d.vertices.at(-1)!.digest).to.equal(GOLDEN_TARGET);
  });

  it('two definitions of one Dockerfile are equal as JSON', () => {
    expect(JSON.stringify(definitionOf(ALL_OPS))).to.equal(JSON.stringify(definitionOf(ALL_OPS)));
  });

  it('a changed build arg changes exactly the RUNs in its scope and the vertices built on them', () => {
    const text = ['FROM busybox AS a', 'RUN echo one > /one', 'ARG V', 'RUN echo $V > /v', 'WORKDIR /w', 'FROM busybox AS b', 'RUN echo other > /o', 'FROM busybox', 'COPY --from=b /o /o', 'COPY --from=a /v /v', ''].join('\n');
    const one = definitionOf(text, { buildArgs: { V: '1' } });
    const two = definitionOf(text, { buildArgs: { V: '2' } });
    const changes = diffDefinitions(one, two);
    expect(changes).to.deep.equal([
      { change: 'changed', id: 'Dockerfile#2#a#4', name: '[a 3/4] RUN echo $V > /v', fields: ['buildArgs.V'], inputs: false },
      { change: 'changed', id: 'Dockerfile#2#a#5', name: '[a 4/4] WORKDIR /w', fields: [], inputs: true },
      { change: 'changed', id: 'Dockerfile#2#2#10', name: '[stage-2 3/3] COPY --from=a /v /v', fields: [], inputs: true },
    ]);
    expect(diffDefinitions(one, one)).to.deep.equal([]);
  });

  it('proxy build args reach the exec description but not the digest', () => {
    const text = 'FROM busybox\nRUN wget http://example.com\n';
    const plain = definitionOf(text);
    const proxied = definitionOf(text, { buildArgs: { HTTP_PROXY: 'http://proxy:3128' } });
    const run = proxied.vertices.at(-1)!;
    expect(run.op).to.deep.include({ op: 'exec', proxyEnv: ['HTTP_PROXY=http://proxy:3128'] });
    expect(run.digest).to.equal(plain.vertices.at(-1)!.digest);
  });

  it('--no-cache-filter marks the stage\'s vertices ignoreCache without changing a digest', () => {
    const text = 'FROM busybox AS a\nRUN echo a > /a\nFROM busybox\nCOPY --from=a /a /a\nRUN echo b\n';
    const plain = definitionOf(text);
    const filtered = definitionOf(text, { noCacheStages: ['1'] });
    expect(filtered.vertices.map((v) => v.digest)).to.deep.equal(plain.vertices.map((v) => v.digest));
    // The base image's vertex is shared by both stages and belongs to the one that made it first: the target.
    expect(filtered.vertices.filter((v) => v.ignoreCache).map((v) => v.name)).to.deep.equal([
      '[stage-1 1/3] FROM docker.io/library/busybox:latest@sha256:1111111111111111111111111111111111111111111111111111111111111111',
      '[stage-1 2/3] COPY --from=a /a /a',
      '[stage-1 3/3] RUN echo b',
    ]);
  });

  it('refuses a definition whose digests, inputs, ops or target do not hold', () => {
    const d = definitionOf(ALL_OPS);
    const bad = (edit: (x: any) => void): unknown => {
      const x = roundTrip(d) as any;
      edit(x);
      return x;
    };
    const code = (value: unknown): string | undefined => {
      try {
        checkDefinition(value);
        return undefined;
      } catch (err) {
        return (err as { code?: string }).code;
      }
    };
    const exec = d.vertices.findIndex((v) => v.op.op === 'exec');
    expect(code(bad((x) => (x.vertices[exec].op.args = ['sh', '-c', 'evil'])))).to.equal('DEFINITION_DIGEST_MISMATCH');
    expect(code(bad((x) => (x.vertices[exec].inputs = [exec])))).to.equal('DEFINITION_INVALID');
    expect(code(bad((x) => (x.vertices[0].op.op = 'build')))).to.equal('DEFINITION_INVALID');
    expect(code(bad((x) => (x.target = x.vertices.length)))).to.equal('DEFINITION_INVALID');
    expect(code(bad((x) => delete x.vertices[0].range))).to.equal('DEFINITION_INVALID');
    expect(code('[]')).to.equal('DEFINITION_INVALID');
    expect(code(roundTrip(d))).to.equal(undefined);
  });
});

const GOLDEN_TARGET = 'sha256:148b2fca36376703361f59f03e8fe0edaa3b4b9d9f92b6f312fd7acb610bf8e8';
