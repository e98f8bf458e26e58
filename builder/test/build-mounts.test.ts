/**
 * RUN mounts end to end: secrets reach the step and nothing else (no blob,
 * no cache record, no history), `cache=content` secrets key on a salted
 * digest of the value, cache mounts persist across builds without entering
 * a layer, and bind mounts read the context and other stages.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { resolveImage } from '@tsbuild/store';
import { makeBuildEnv, mountsUnder, blobContents, eventsOf, type BuildEnv } from './build-support.js';

const SECRET = 'tsbuild-test-secret-4f1c9a';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

describe('build: RUN mounts', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  before(async () => (env = await makeBuildEnv('tsbuild-build-mounts-')));
  after(() => env?.cleanup());
  afterEach(() => expect(mountsUnder(env.dir), 'leftover mounts').to.deep.equal([]));

  it('a secret reaches the RUN and appears in no blob, cache record or history', async () => {
    const sum = createHash('sha256').update(SECRET).digest('hex');
    const ctx = env.context(
      {
        Dockerfile: [
          'FROM busybox',
          'RUN --mount=type=secret,id=s cat /run/secrets/s > /dev/null',
          `RUN --mount=type=secret,id=s,required [ "$(sha256sum < /run/secrets/s | cut -c1-64)" = ${sum} ] && echo checked > /checked`,
          `RUN --mount=type=secret,id=s,env=TOKEN [ "$(printf %s "$TOKEN" | sha256sum | cut -c1-64)" = ${sum} ] && ! [ -e /run/secrets/s ]`,
          '',
        ].join('\n'),
        'secret.txt': SECRET,
      },
      'ctx-secret',
    );
    const res = await env.build({ context: ctx, tags: ['t/secret:1'], secrets: [{ id: 's', src: join(ctx, 'secret.txt') }] });
    for (const { name, data } of blobContents(env.store)) expect(data.includes(SECRET), `blob ${name}`).to.equal(false);
    for (const file of filesUnder(join(env.store.root, 'cache'))) expect(readFileSync(file).includes(SECRET), file).to.equal(false);
    const { config } = await resolveImage(env.store.content, (await env.store.images.get('t/secret:1')).target);
    expect(JSON.stringify(config)).to.not.contain(SECRET);
    expect(JSON.stringify(res.events)).to.not.contain(SECRET);
  });

  it('a required secret that is missing fails at its RUN, with BuildKit\'s message', async () => {
    const ctx = env.context({ Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=nope,required true\n' }, 'ctx-secret-missing');
    const err = await env.build({ context: ctx }).then(() => undefined, (e: unknown) => e as { code?: string; message?: string; range?: { start: { line: number } } });
    expect(err?.code).to.equal('BUILD_SECRET_NOT_FOUND');
    expect(err?.range?.start.line).to.equal(2);
    // session/secrets/secrets.go, GetSecret: errors.Wrapf(ErrNotFound, "secret %s", id).
    expect(err?.message).to.contain('secret nope: not found');
  });

  it('secret ids as BuildKit reads them: source= names the secret; the default file is /run/secrets/<base name of the id>', async () => {
    // dockerfile2llb/convert_secrets.go, dispatchSecret: id = source, else id; dest = "/run/secrets/" + path.Base(id).
    const ctx = env.context({
      Dockerfile: [
        'FROM busybox',
        'RUN --mount=type=secret,source=s,required [ -s /run/secrets/s ]',
        'RUN --mount=type=secret,id=team/s,required [ -f /run/secrets/s ] && [ ! -e /run/secrets/team ]',
        '',
      ].join('\n'),
      'secret.txt': SECRET,
    }, 'ctx-secret-ids');
    const before = env.executor.runs;
    await env.build({ context: ctx, secrets: [{ id: 's', src: join(ctx, 'secret.txt') }, { id: 'team/s', src: join(ctx, 'secret.txt') }] });
    expect(env.executor.runs - before).to.equal(2);
  });

  it('an optional env= secret that is missing sets its variable, empty, and no file (BuildKit\'s loadSecretEnv)', async () => {
    // v0.8 has no env= (so no differential case): solver/llbsolver/ops/exec.go, ExecOp.loadSecretEnv, appends NAME= for it.
    const ctx = env.context({
      Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=absent,env=TOKEN,target=/s [ "${TOKEN+set}" = set ] && [ -z "$TOKEN" ] && [ ! -e /s ]\n',
    }, 'ctx-secret-env-absent');
    const before = env.executor.runs;
    await env.build({ context: ctx });
    expect(env.executor.runs - before).to.equal(1);
  });

  it('cache=content rebuilds when the secret value changes; without it the value never matters', async () => {
    const ctx = env.context(
      { Dockerfile: 'FROM busybox\nRUN --mount=type=secret,id=c cat /run/secrets/c > /dev/null\nRUN --mount=type=secret,id=p cat /run/secrets/p > /dev/null\n' },
      'ctx-secret-content',
    );
    const runs = async (c: string, p: string) => {
      const before = env.executor.runs;
      await env.build({ context: ctx, env: { C: c, P: p }, secrets: [{ id: 'c', env: 'C', cacheMode: 'content' }, { id: 'p', env: 'P' }] });
      return env.executor.runs - before;
    };
    expect(await runs('one', 'x')).to.equal(2);
    expect(await runs('one', 'y')).to.equal(0);
    // Only the first RUN re-runs: it wrote nothing, so its output (chain id) is unchanged and the second RUN hits.
    expect(await runs('two', 'y')).to.equal(1);
    const salt = join(env.store.root, 'cache', 'secret-salt');
    expect(statSync(salt).mode & 0o777).to.equal(0o600);
    for (const file of filesUnder(join(env.store.root, 'cache', 'records'))) {
      const text = readFileSync(file, 'utf8');
      expect(text).to.not.contain('"one"').and.not.contain('"two"');
    }
  });

  it('cache mounts persist across builds and stay out of the layers', async () => {
    const ctx = env.context(
      {
        Dockerfile: [
          'FROM busybox',
          'ARG N=1',
          'RUN --mount=type=cache,target=/cache,id=c1 if [ "$N" = 1 ]; then echo one > /cache/f; else [ "$(cat /cache/f)" = one ] && echo seen > /seen; fi',
          '',
        ].join('\n'),
      },
      'ctx-cache-mount',
    );
    await env.build({ context: ctx });
    const res = await env.build({ context: ctx, buildArgs: { N: '2' }, outputs: [{ type: 'local', dest: join(env.dir, 'out-cache') }] });
    expect(eventsOf(res.events, 'vertex.started')).to.have.length(1);
    expect(readFileSync(join(env.dir, 'out-cache', 'seen'), 'utf8')).to.equal('seen\n');
    expect(readdirSync(join(env.dir, 'out-cache'))).to.not.include('cache');
  });

  it('bind mounts read the context and another stage, and a changed bound file re-runs the step', async () => {
    const ctx = env.context(
      {
        Dockerfile: [
          'FROM busybox AS tools',
          'RUN echo tool > /tool',
          'FROM busybox',
          'RUN --mount=type=bind,source=data,target=/data --mount=type=bind,from=tools,source=/tool,target=/t [ "$(cat /data/x)" = "$(cat /data/x)" ] && [ "$(cat /t)" = tool ] && cp /data/x /x',
          '',
        ].join('\n'),
        'data/x': '1',
      },
      'ctx-bind',
    );
    await env.build({ context: ctx });
    writeFileSync(join(ctx, 'data', 'x'), '2');
    const before = env.executor.runs;
    const res = await env.build({ context: ctx, outputs: [{ type: 'local', dest: join(env.dir, 'out-bind') }] });
    expect(env.executor.runs - before).to.equal(1);
    expect(readFileSync(join(env.dir, 'out-bind', 'x'), 'utf8')).to.equal('2');
    expect(eventsOf(res.events, 'vertex.explain').flatMap((e) => e.text)).to.include('file "data/x" changed');
  });

  it('an ssh mount binds the agent socket and announces it in SSH_AUTH_SOCK', async () => {
    const socket = join(env.dir, 'agent.sock');
    const server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const ctx = env.context({ Dockerfile: 'FROM busybox\nRUN --mount=type=ssh,required [ -S "$SSH_AUTH_SOCK" ]\n' }, 'ctx-ssh');
      const before = env.executor.runs;
      await env.build({ context: ctx, ssh: [{ id: 'default', paths: [socket] }] });
      expect(env.executor.runs - before).to.equal(1);
      const err = await env.build({ context: ctx, noCache: true }).then(() => undefined, (e: unknown) => e as { code?: string; message?: string });
      expect(err?.code).to.equal('BUILD_SSH_NOT_FOUND');
      // solver/llbsolver/mounts/mount.go, getSSHMountable: errors.Errorf("no SSH key %q forwarded from the client", id).
      expect(err?.message).to.contain('no SSH key "default" forwarded from the client');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('ssh mounts are numbered among the ssh mounts, forwarded or not; SSH_AUTH_SOCK is the first one\'s target', async () => {
    // client/llb/exec.go, ExecOp.Marshal: target /run/buildkit/ssh_agent.<index> for each ssh mount without one, and
    // SSH_AUTH_SOCK = the first one's unless the env has it; an optional mount nothing is forwarded for is left out.
    const socket = join(env.dir, 'agent-b.sock');
    const server = createServer(() => undefined);
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const ctx = env.context({
        Dockerfile: [
          'FROM busybox',
          'RUN --mount=type=ssh,id=a --mount=type=ssh,id=b,required [ "$SSH_AUTH_SOCK" = /run/buildkit/ssh_agent.0 ] && [ ! -e /run/buildkit/ssh_agent.0 ] && [ -S /run/buildkit/ssh_agent.1 ]',
          'ARG SSH_AUTH_SOCK=/from-arg',
          'RUN --mount=type=ssh,id=b [ "$SSH_AUTH_SOCK" = /from-arg ] && [ -S /run/buildkit/ssh_agent.0 ]',
          '',
        ].join('\n'),
      }, 'ctx-ssh-numbering');
      const before = env.executor.runs;
      await env.build({ context: ctx, ssh: [{ id: 'b', paths: [socket] }] });
      expect(env.executor.runs - before).to.equal(2);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
