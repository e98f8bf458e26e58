/**
 * The stage graph against BuildKit's dockerfile2llb semantics, one small
 * inline Dockerfile per behaviour: expansion, ARG scope, configs and their
 * reset rules, history text, stage references, target pruning, lints and
 * located errors.
 */
import { DockerfileError, type ImageConfig } from '@tsbuild/core';
import { expect } from 'chai';
import { buildStageGraph, DEFAULT_PATH_ENV, type BuildStageGraphOptions, type StageGraph, type Step } from '../src/stages/index.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const graph = (dockerfile: string, opts: Omit<BuildStageGraphOptions, 'dockerfile'> = {}): StageGraph =>
  buildStageGraph({ dockerfile, platform: { build: amd64, target: amd64 }, ...opts });
const steps = (g: StageGraph, stage = g.target.index): Step[] => g.stages[stage]!.steps;
const createdBy = (g: StageGraph, stage = g.target.index): string[] => g.stages[stage]!.history.map((h) => h.created_by!);
const imageConfig = (config: ImageConfig['config']): ImageConfig => ({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config });
/** RUN's process environment as the worker makes it from a step's state (builder worker/exec-op.ts processEnv). */
const processEnv = (state: Step['state']): string[] => {
  const names = new Set(state.env.map((e) => e.slice(0, e.indexOf('='))));
  return [...state.env, ...state.args.filter(([k]) => !names.has(k)).map(([k, v]) => `${k}=${v}`)];
};

/** Runs `fn`, expects a DockerfileError, returns it. */
function dockerfileError(fn: () => unknown): DockerfileError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(DockerfileError);
    return err as DockerfileError;
  }
  throw new Error('expected a DockerfileError');
}

describe('stage graph: expansion and ARG scope', function () {
  it('expands ENV/LABEL/WORKDIR/USER with ARG values, leaves RUN/CMD alone', function () {
    const g = graph('FROM scratch\nARG X=1\nENV A=$X B="q r"\nLABEL l=${X}0\nWORKDIR /w$X\nUSER u$X\nRUN echo $A\nCMD echo $A\n');
    const [, env, label, wd, user, run, cmd] = steps(g);
    expect(env!.expanded).to.deep.equal({ kind: 'ENV', pairs: [['A', '1'], ['B', 'q r']] });
    expect(label!.expanded).to.deep.equal({ kind: 'LABEL', pairs: [['l', '10']] });
    expect(wd!.expanded).to.deep.equal({ kind: 'WORKDIR', path: '/w1' });
    expect(user!.expanded).to.deep.equal({ kind: 'USER', user: 'u1' });
    expect(run!.expanded).to.include({ kind: 'RUN' }).and.have.deep.property('command', { form: 'shell', command: 'echo $A' });
    expect(cmd!.expanded).to.deep.equal({ kind: 'CMD', command: ['/bin/sh', '-c', 'echo $A'] });
    expect(run!.state).to.deep.include({ workdir: '/w1', user: 'u1', args: [['X', '1']] });
    expect(g.target.finalConfig.Env).to.deep.equal(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1', 'B=q r']);
  });

  it('ENV pairs on one line see the values from before the line', function () {
    const g = graph('FROM scratch\nENV A=old\nENV A=new B=$A\n');
    expect(steps(g)[1]!.expanded).to.deep.equal({ kind: 'ENV', pairs: [['A', 'new'], ['B', 'old']] });
  });

  it('global ARGs are visible in a stage only after ARG redeclares them', function () {
    const g = graph('ARG V=1\nFROM scratch\nENV A=x$V\nARG V\nENV B=x$V\n');
    expect(steps(g)[0]!.expanded).to.deep.equal({ kind: 'ENV', pairs: [['A', 'x']] });
    expect(steps(g)[2]!.expanded).to.deep.equal({ kind: 'ENV', pairs: [['B', 'x1']] });
    expect(g.warnings.filter((w) => w.rule === 'UndefinedVar').map((w) => [w.message, w.range.start.line]))
      .to.deep.equal([["Usage of undefined variable '$V'", 3]]);
  });

  it('--build-arg overrides the default of a meta ARG and of a stage ARG', function () {
    const g = graph('ARG TAG=1\nFROM alpine:$TAG\nARG A=dflt\nRUN true\n', { buildArgs: { TAG: '3.19', A: 'cli' } });
    expect(g.target.base).to.deep.equal({ kind: 'image', ref: 'alpine:3.19' });
    expect(createdBy(g)).to.deep.equal(['ARG A=cli', 'RUN |1 A=cli /bin/sh -c true # buildkit']);
    expect(g.buildArgs).to.deep.include.members([['TAG', '3.19'], ['A', 'cli']]);
    expect(g.unusedBuildArgs).to.deep.equal([]);
  });

  it('an ARG with a value after an ENV of the same name wins from that line on, in expansion and RUN, not in the config', function () {
    // issue 12, point 1: BuildKit's dispatchArg sets the value in d.state (AddEnv), over the ENV.
    const df = 'FROM scratch\nENV W=env-first D=env-d N=env-n\nARG W\nARG D=default-d\nARG N\n' +
      'LABEL w=$W d=$D n=$N\nENV COPY_W=$W\nWORKDIR /w-$W\nUSER $W\nEXPOSE ${P:-80}\nRUN true\n';
    const g = graph(df, { buildArgs: { W: 'cli-w' } });
    const s = steps(g);
    expect(s[4]!.expanded).to.deep.equal({ kind: 'LABEL', pairs: [['w', 'cli-w'], ['d', 'default-d'], ['n', 'env-n']] });
    expect(s[5]!.expanded).to.deep.equal({ kind: 'ENV', pairs: [['COPY_W', 'cli-w']] });
    expect(s[6]!.expanded).to.deep.equal({ kind: 'WORKDIR', path: '/w-cli-w' });
    expect(s[7]!.expanded).to.deep.equal({ kind: 'USER', user: 'cli-w' });
    // RUN's process: env without the names an ARG set last, then the ARGs — W and D from the ARGs, N from the ENV.
    const run = s[9]!.state;
    expect(processEnv(run)).to.deep.include.members(['W=cli-w', 'D=default-d', 'N=env-n', 'COPY_W=cli-w']);
    expect(processEnv(run).filter((e) => /^[WDN]=/.test(e))).to.have.length(3);
    expect(createdBy(g)[9]).to.equal('RUN |3 W=cli-w D=default-d N=env-n /bin/sh -c true # buildkit');
    // The image config keeps the ENV values.
    expect(g.target.finalConfig.Env).to.deep.equal([DEFAULT_PATH_ENV, 'W=env-first', 'D=env-d', 'N=env-n', 'COPY_W=cli-w']);
  });

  it('an ENV after the ARG wins again; a global ARG redeclared after an ENV brings the global value', function () {
    const g = graph('ARG G=global\nFROM scratch\nENV G=env-g\nARG G\nARG W=arg\nENV W=env-again\nLABEL g=$G w=$W\nRUN true\n');
    expect(steps(g)[4]!.expanded).to.deep.equal({ kind: 'LABEL', pairs: [['g', 'global'], ['w', 'env-again']] });
    expect(processEnv(steps(g)[5]!.state).filter((e) => /^[GW]=/.test(e)).sort()).to.deep.equal(['G=global', 'W=env-again']);
  });

  it('a stage built on a stage inherits its ARG values and ARGs; the config\'s ENV is applied over them again', function () {
    // BuildKit dispatchState.init: state = base.state, buildArgs += base.buildArgs; dispatchStages re-adds config Env.
    const df = 'FROM scratch AS base\nENV W=env-w\nARG W=arg-w\nARG ONLY=only\nFROM base\nLABEL w=$W only=$ONLY\nARG ONLY=again\nRUN true\n';
    const g = graph(df);
    expect(steps(g)[0]!.expanded).to.deep.equal({ kind: 'LABEL', pairs: [['w', 'env-w'], ['only', 'only']] });
    expect(processEnv(steps(g)[2]!.state).filter((e) => /^(W|ONLY)=/.test(e)).sort()).to.deep.equal(['ONLY=again', 'W=env-w']);
    expect(createdBy(g).at(-1)).to.equal('RUN |2 W=env-w ONLY=again /bin/sh -c true # buildkit');
    expect(g.warnings.filter((w) => w.rule === 'UndefinedVar')).to.deep.equal([]);
  });

  it('a redeclared ARG keeps its first place in RUN\'s history and, without a value, its value', function () {
    const g = graph('FROM scratch\nARG A=1\nARG B=2\nARG A=3\nARG B\nRUN true\n');
    expect(createdBy(g).at(-1)).to.equal('RUN |2 A=3 B=2 /bin/sh -c true # buildkit');
    expect(steps(g).at(-1)!.state.args).to.deep.equal([['A', '3'], ['B', '2']]);
  });

  it('an ARG without a value after an ENV leaves the ENV; a --build-arg no ARG declares reaches nothing', function () {
    const g = graph('FROM scratch\nENV N=env-n\nARG N\nLABEL n=$N u=$UNDECLARED\nRUN true\n', { buildArgs: { UNDECLARED: 'x' } });
    expect(steps(g)[2]!.expanded).to.deep.equal({ kind: 'LABEL', pairs: [['n', 'env-n'], ['u', '']] });
    expect(processEnv(steps(g)[3]!.state).some((e) => e.startsWith('UNDECLARED='))).to.equal(false);
    expect(g.unusedBuildArgs).to.deep.equal(['UNDECLARED']);
  });

  it('ONBUILD triggers see the state like any instruction', function () {
    const cfg = imageConfig({ Env: ['PATH=/bin', 'W=env'], OnBuild: ['ARG W', 'LABEL w=$W'] });
    const g = graph('FROM parent\n', { baseImageConfig: () => cfg, buildArgs: { W: 'cli' } });
    expect(steps(g)[1]!.expanded).to.deep.equal({ kind: 'LABEL', pairs: [['w', 'cli']] });
  });

  it('BUILDKIT_SBOM_SCAN_* ARGs stay out of the environment (convert.go nonEnvArgs)', function () {
    const g = graph('FROM scratch\nARG BUILDKIT_SBOM_SCAN_STAGE=true\nRUN true\n');
    expect(processEnv(steps(g)[1]!.state).some((e) => e.startsWith('BUILDKIT_SBOM'))).to.equal(false);
    expect(createdBy(g)[1]).to.equal('RUN |1 BUILDKIT_SBOM_SCAN_STAGE=true /bin/sh -c true # buildkit');
    expect(graph('FROM scratch\nLABEL s=$BUILDKIT_SBOM_SCAN_CONTEXT\n').warnings.filter((w) => w.rule === 'UndefinedVar')).to.deep.equal([]);
  });

  it('ENV overrides an ARG of the same name, even one set with --build-arg', function () {
    const g = graph('FROM scratch\nARG V=arg\nENV V=env\nENV W=$V\nRUN true\n', { buildArgs: { V: 'cli' } });
    expect(steps(g)[2]!.expanded).to.deep.equal({ kind: 'ENV', pairs: [['W', 'env']] });
    expect(createdBy(g)[3]).to.equal('RUN |1 V=env /bin/sh -c true # buildkit');
  });

  it('COPY heredocs: bodies expand (quotes kept) unless the heredoc word is quoted', function () {
    const g = graph('FROM scratch\nARG N=world\nCOPY <<EOF <<"RAW" /d/\necho "hi $N"\nEOF\nkeep $N\nRAW\n');
    const copy = steps(g)[1]!.expanded;
    if (copy.kind !== 'COPY') throw new Error('not COPY');
    expect(copy.inlineFiles).to.deep.equal([{ name: 'EOF', data: 'echo "hi world"\n' }, { name: 'RAW', data: 'keep $N\n' }]);
    expect(createdBy(g)[1]).to.equal('COPY <<EOF <<RAW /d/ # buildkit');
  });

  it('a stage built on another inherits its platform unless FROM sets one', function () {
    const g = buildStageGraph({
      dockerfile: 'FROM --platform=$BUILDPLATFORM alpine AS tools\nFROM tools AS a\nFROM --platform=linux/s390x tools AS b\nFROM alpine\n',
      platform: { build: amd64, target: arm64 },
    });
    expect(g.stages.map((st) => st.platform.architecture)).to.deep.equal(['amd64', 'amd64', 's390x', 'arm64']);
  });

  it('platform ARGs: automatic in FROM, visible in a stage after ARG', function () {
    const g = buildStageGraph({
      dockerfile: 'FROM --platform=$BUILDPLATFORM alpine AS b\nARG TARGETARCH\nARG BUILDOS\nENV T=$TARGETARCH O=$BUILDOS\n',
      platform: { build: amd64, target: arm64 },
    });
    expect(g.target.platform).to.deep.equal(amd64);
    expect(steps(g)[2]!.expanded).to.deep.equal({ kind: 'ENV', pairs: [['T', 'arm64'], ['O', 'linux']] });
    expect(createdBy(g).slice(0, 2)).to.deep.equal(['ARG TARGETARCH=arm64', 'ARG BUILDOS=linux']);
    expect(graph('FROM alpine AS x\n').target.platform).to.deep.equal(amd64);
  });

  it('a global ARG redeclared without a value keeps the earlier value (buildMetaArgs)', function () {
    const g = graph('ARG X=1\nARG X\nFROM alpine:$X\nARG X\nLABEL x=$X\n');
    expect(g.target.base).to.deep.equal({ kind: 'image', ref: 'alpine:1' });
    expect(steps(g)[1]!.expanded).to.deep.equal({ kind: 'LABEL', pairs: [['x', '1']] });
  });

  it('TARGETSTAGE is --target as given, else the last stage\'s name, else "default"; a --build-arg replaces a platform ARG', function () {
    const stage = (df: string, opts: Omit<BuildStageGraphOptions, 'dockerfile'> = {}) =>
      (graph(df, opts).target.steps[1]!.expanded as { pairs: Array<[string, string]> }).pairs;
    expect(stage('FROM alpine\nARG TARGETSTAGE\nLABEL t=$TARGETSTAGE\n')).to.deep.equal([['t', 'default']]);
    expect(stage('FROM alpine AS last\nARG TARGETSTAGE\nLABEL t=$TARGETSTAGE\n')).to.deep.equal([['t', 'last']]);
    expect(stage('FROM alpine AS x\nARG TARGETSTAGE\nLABEL t=$TARGETSTAGE\nFROM alpine\n', { target: 'X' })).to.deep.equal([['t', 'X']]);
    const overridden = graph('FROM alpine:$TARGETARCH\n', { buildArgs: { TARGETARCH: 'cli' } });
    expect(overridden.target.base).to.deep.equal({ kind: 'image', ref: 'alpine:cli' });
    expect(overridden.unusedBuildArgs).to.deep.equal([]);
  });

  it('proxy build args are accepted without an ARG and kept out of history', function () {
    const g = graph('FROM scratch\nRUN true\n', { buildArgs: { HTTP_PROXY: 'http://proxy:3128', NOPE: '1' } });
    expect(g.unusedBuildArgs).to.deep.equal(['NOPE']);
    expect(createdBy(g)).to.deep.equal(['RUN /bin/sh -c true # buildkit']);
    expect(g.proxyEnv).to.deep.equal([['HTTP_PROXY', 'http://proxy:3128']]);
    expect(g.warnings.map((w) => w.message)).to.include('One or more build-args [NOPE] were not consumed');
  });

  it('a build arg consumed only by an unreachable stage is unused', function () {
    const g = graph('FROM scratch AS other\nARG ONLY\nFROM scratch\n', { buildArgs: { ONLY: 'x' } });
    expect(g.unusedBuildArgs).to.deep.equal(['ONLY']);
  });

  it('mount options expand; RUN --network/--security pass through', function () {
    const g = graph('FROM scratch\nARG T=/cache\nRUN --mount=type=cache,target=$T,id=c$T --network=none true\n');
    const run = steps(g)[1]!.expanded;
    if (run.kind !== 'RUN') throw new Error('not RUN');
    expect(run.mounts[0]).to.include({ type: 'cache', target: '/cache', id: 'c/cache' });
    expect(run.network).to.equal('none');
  });

  it('seeds the environment from a known base image config', function () {
    const cfg = imageConfig({ Env: ['PATH=/usr/bin', 'GOPATH=/go'], WorkingDir: '/go', User: 'app' });
    const g = graph('FROM golang\nWORKDIR $GOPATH/src\nENV X=$NOPE\n', { baseImageConfig: (ref) => (ref === 'golang' ? cfg : undefined) });
    expect(steps(g)[0]!.state).to.deep.include({ env: ['PATH=/usr/bin', 'GOPATH=/go'], user: 'app', workdir: '/go' });
    expect(g.target.finalConfig.WorkingDir).to.equal('/go/src');
    expect(g.warnings.filter((w) => w.rule === 'UndefinedVar')).to.have.length(1);
    // Unknown base image: a $VAR may come from the image, so no UndefinedVar.
    expect(graph('FROM golang\nENV X=$GOPATH\n').warnings.filter((w) => w.rule === 'UndefinedVar')).to.deep.equal([]);
  });
});

describe('stage graph: config and history', function () {
  it('writes created_by exactly as BuildKit does, with empty_layer for metadata', function () {
    const g = graph([
      'FROM scratch', 'ARG A=1', 'ENV E=b', 'LABEL k=v', 'WORKDIR /app', 'RUN echo hi', 'COPY --chown=1:1 x /y', 'ADD a b /d/',
      'CMD ["sh"]', 'ENTRYPOINT ["e"]', 'EXPOSE 80 53/udp', 'VOLUME /data /b', 'USER me', 'SHELL ["/bin/bash", "-c"]', 'STOPSIGNAL SIGTERM',
      'HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD curl -f x', 'RUN echo bash', 'MAINTAINER me@x', 'ONBUILD RUN later', '',
    ].join('\n'));
    expect(createdBy(g)).to.deep.equal([
      'ARG A=1', 'ENV E=b', 'LABEL k=v', 'WORKDIR /app', 'RUN |1 A=1 /bin/sh -c echo hi # buildkit', 'COPY --chown=1:1 x /y # buildkit',
      'ADD a b /d/ # buildkit', 'CMD ["sh"]', 'ENTRYPOINT ["e"]', 'EXPOSE map[53/udp:{} 80/tcp:{}]', 'VOLUME [/data /b]', 'USER me',
      'SHELL [/bin/bash -c]', 'STOPSIGNAL SIGTERM', `HEALTHCHECK &{["CMD-SHELL" "curl -f x"] "30s" "3s" "0s" "0s" '\\x03'}`,
      'RUN |1 A=1 /bin/bash -c echo bash # buildkit', 'MAINTAINER me@x',
    ]);
    const layers = g.target.history.map((h) => h.empty_layer !== true);
    expect(layers).to.deep.equal([false, false, false, true, true, true, true, false, false, false, false, false, false, false, false, true, false]);
    expect(g.target.finalConfig).to.deep.include({
      User: 'me', WorkingDir: '/app', Cmd: ['sh'], Entrypoint: ['e'], Shell: ['/bin/bash', '-c'], StopSignal: 'SIGTERM',
      Labels: { k: 'v' }, ExposedPorts: { '80/tcp': {}, '53/udp': {} }, Volumes: { '/data': {}, '/b': {} }, OnBuild: ['RUN later'],
    });
    expect(g.target.finalConfig.Healthcheck).to.deep.equal({ Test: ['CMD-SHELL', 'curl -f x'], Interval: 30e9, Timeout: 3e9, Retries: 3 });
    expect(g.target.author).to.equal('me@x');
  });

  it('WORKDIR is relative to the previous one; WORKDIR / makes no layer', function () {
    const g = graph('FROM scratch\nWORKDIR /a\nWORKDIR b\nWORKDIR ../c/\nWORKDIR /\n');
    expect(steps(g).map((s) => s.expanded)).to.deep.equal(['/a', '/a/b', '/a/c', '/'].map((path) => ({ kind: 'WORKDIR', path })));
    expect(steps(g).map((s) => s.makesLayer)).to.deep.equal([true, true, true, false]);
  });

  it('a base image without PATH gets the default PATH in its config, as BuildKit sets it; one with PATH keeps it', function () {
    const bare = graph('FROM parent\nENV B=2\n', { baseImageConfig: () => imageConfig({ Env: ['A=1'] }) });
    expect(bare.target.finalConfig.Env).to.deep.equal(['A=1', DEFAULT_PATH_ENV, 'B=2']);
    const own = graph('FROM parent\n', { baseImageConfig: () => imageConfig({ Env: ['PATH=/x'] }) });
    expect(own.target.finalConfig.Env).to.deep.equal(['PATH=/x']);
  });

  it('ENTRYPOINT resets an inherited CMD, but not one set earlier in the same stage', function () {
    const g = graph('FROM scratch AS base\nCMD ["sh"]\nFROM base AS a\nENTRYPOINT ["e"]\nFROM base AS b\nCMD ["c"]\nENTRYPOINT e2\n');
    expect(g.stages[1]!.finalConfig).to.deep.include({ Entrypoint: ['e'] });
    expect(g.stages[1]!.finalConfig).not.to.have.property('Cmd'); // omitted, as BuildKit writes it
    expect(g.stages[2]!.finalConfig).to.deep.include({ Cmd: ['c'], Entrypoint: ['/bin/sh', '-c', 'e2'] });
    expect(createdBy(g, 2)).to.deep.equal(['CMD ["c"]', 'ENTRYPOINT ["/bin/sh" "-c" "e2"]']);
  });

  it('an empty exec-form CMD or ENTRYPOINT leaves the field out, as BuildKit writes it (omitempty)', function () {
    const g = graph('FROM scratch AS base\nCMD ["sh"]\nENTRYPOINT ["e"]\nFROM base\nCMD []\nENTRYPOINT []\n');
    expect(g.target.finalConfig).not.to.have.property('Cmd');
    expect(g.target.finalConfig).not.to.have.property('Entrypoint');
    expect(createdBy(g)).to.deep.equal(['CMD []', 'ENTRYPOINT []']);
  });

  it('runs the ONBUILD triggers of a base image first, and clears them', function () {
    const cfg = imageConfig({ OnBuild: ['RUN echo hi', 'ENV X=1'] });
    const g = graph('FROM parent\nRUN own\n', { baseImageConfig: () => cfg });
    expect(steps(g).map((s) => [s.kind, s.onbuild === true])).to.deep.equal([['RUN', true], ['ENV', true], ['RUN', false]]);
    expect(createdBy(g)[0]).to.equal('RUN /bin/sh -c echo hi # buildkit');
    expect(g.target.finalConfig.OnBuild).to.equal(undefined);
    const s = graph('FROM scratch AS p\nONBUILD RUN child\nFROM p\n');
    expect(steps(s).map((x) => x.original)).to.deep.equal(['RUN child']);
  });
});

describe('stage graph: RUN argv', function () {
  const argv = (df: string) => {
    const run = graph(df).target.steps.at(-1)!;
    if (run.expanded.kind !== 'RUN') throw new Error('not RUN');
    return [run.expanded.argv, run.history!.created_by];
  };

  it('wraps shell form in the shell and keeps exec form', function () {
    expect(argv('FROM scratch\nRUN echo $HOME\n')).to.deep.equal([['/bin/sh', '-c', 'echo $HOME'], 'RUN /bin/sh -c echo $HOME # buildkit']);
    expect(argv('FROM scratch\nRUN ["echo", "a b"]\n')).to.deep.equal([['echo', 'a b'], 'RUN echo a b # buildkit']);
  });

  it('runs a lone heredoc as the script, a #! heredoc from /dev/pipes, and appends heredocs otherwise', function () {
    expect(argv('FROM scratch\nRUN <<EOF\necho hi\nEOF\n')[0]).to.deep.equal(['/bin/sh', '-c', 'echo hi\n']);
    expect(argv('FROM scratch\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n')[0]).to.deep.equal(['/bin/sh', '-c', '/dev/pipes/EOF']);
    expect(argv('FROM scratch\nRUN cat <<EOF > /x\nhello\nEOF\n')[0]).to.deep.equal(['/bin/sh', '-c', 'cat <<EOF > /x\nhello\nEOF']);
  });
});

describe('stage graph: stages, edges and the target', function () {
  const df = [
    'FROM alpine AS Build', 'RUN make', 'FROM build AS test', 'RUN test', 'FROM scratch AS tools',
    'FROM scratch', 'COPY --from=BUILD /out /', 'COPY --from=2 /t /', 'COPY --from=busybox:1.36 /bin/sh /', 'RUN --mount=from=tools,target=/t true', '',
  ].join('\n');

  it('resolves names case-insensitively, indexes and images; the last stage is the target', function () {
    const g = graph(df);
    expect(g.stages.map((s) => s.name)).to.deep.equal(['build', 'test', 'tools', undefined]);
    expect(g.stages[1]!.base).to.deep.equal({ kind: 'stage', index: 0 });
    expect(g.edges.map((e) => [e.from, e.to, e.kind])).to.deep.equal([[1, 0, 'from'], [3, 0, 'copy'], [3, 2, 'copy'], [3, 2, 'mount']]);
    const copies = steps(g).map((s) => (s.expanded.kind === 'COPY' ? s.expanded.from : undefined));
    expect(copies.slice(0, 3)).to.deep.equal([{ kind: 'stage', index: 0 }, { kind: 'stage', index: 2 }, { kind: 'image', ref: 'busybox:1.36' }]);
    expect(g.target.index).to.equal(3);
    expect(g.reachable).to.deep.equal([0, 2, 3]);
  });

  it('--target prunes what the target does not reach', function () {
    expect(graph(df, { target: 'test' }).reachable).to.deep.equal([0, 1]);
    expect(graph(df, { target: 'TOOLS' }).reachable).to.deep.equal([2]);
  });

  it('does not throw for a broken stage that the target does not reach', function () {
    const g = graph('FROM alpine AS bad\nWORKDIR ${X:?no}\nFROM alpine\n');
    expect(g.reachable).to.deep.equal([1]);
  });
});

describe('stage graph: duplicate stage names (issue 12, point 9)', function () {
  // BuildKit's dispatchStates: one name → stage map, a later stage replacing an earlier one.
  const df = [
    'FROM alpine AS x', 'RUN first', 'FROM x AS X', 'RUN second', 'FROM alpine AS y', 'FROM x AS z',
    'FROM busybox', 'COPY --from=x /a /b', 'COPY --from=X /a /c', 'COPY --from=0 /a /d', 'RUN --mount=from=x,target=/m true', '',
  ].join('\n');

  it('builds, with a DuplicateStageName warning at the later stage', function () {
    const g = graph(df);
    expect(g.stages.map((s) => s.name)).to.deep.equal(['x', 'x', 'y', 'z', undefined]);
    expect(g.warnings.filter((w) => w.rule === 'DuplicateStageName').map((w) => [w.message, w.range.start.line, w.url])).to.deep.equal([
      ['Duplicate stage name "x", stage names should be unique', 3, 'https://docs.docker.com/go/dockerfile/rule/duplicate-stage-name/'],
    ]);
  });

  it('FROM x is the latest x before it; COPY --from=x, mount from=x and --target x the last x; --from=0 the index', function () {
    const g = graph(df);
    expect(g.stages[1]!.base).to.deep.equal({ kind: 'stage', index: 0 });
    expect(g.stages[3]!.base).to.deep.equal({ kind: 'stage', index: 1 });
    const from = steps(g).map((s) => (s.expanded.kind === 'COPY' ? s.expanded.from : s.expanded.kind === 'RUN' ? s.expanded.mounts[0]!.fromSource : undefined));
    expect(from).to.deep.equal([{ kind: 'stage', index: 1 }, { kind: 'stage', index: 1 }, { kind: 'stage', index: 0 }, { kind: 'stage', index: 1 }]);
    expect(g.reachable).to.deep.equal([0, 1, 4]);
    expect(graph(df, { target: 'x' }).target.index).to.equal(1);
    expect(graph(df, { target: 'X' }).reachable).to.deep.equal([0, 1]);
  });

  it('a FROM naming its own stage or a later one names an image, as in BuildKit (the lookup runs as stages are added)', function () {
    expect(graph('FROM alpine AS a\nFROM b AS b\n').target.base).to.deep.equal({ kind: 'image', ref: 'b' });
    expect(graph('FROM later AS first\nFROM alpine AS later\n', { target: 'first' }).target.base).to.deep.equal({ kind: 'image', ref: 'later' });
  });

  it('a stage named like an image is the stage, for FROM and --from alike', function () {
    const g = graph('FROM alpine AS busybox\nRUN mine\nFROM busybox\nCOPY --from=busybox /a /b\nCOPY --from=busybox:latest /a /c\n');
    expect(g.target.base).to.deep.equal({ kind: 'stage', index: 0 });
    expect(steps(g).map((s) => (s.expanded.kind === 'COPY' ? s.expanded.from : undefined)))
      .to.deep.equal([{ kind: 'stage', index: 0 }, { kind: 'image', ref: 'busybox:latest' }]);
  });

  it('ReservedStageName for scratch and context, with BuildKit\'s message', function () {
    const g = graph('FROM alpine AS scratch\nFROM alpine AS context\nFROM alpine AS Scratch\n');
    expect(g.warnings.filter((w) => /Stage/.test(w.rule)).map((w) => `${w.rule}@${w.range.start.line}: ${w.message}`)).to.deep.equal([
      'ReservedStageName@1: Stage name should not use the same name as reserved stage "scratch"',
      'ReservedStageName@2: Stage name should not use the same name as reserved stage "context"',
      "StageNameCasing@3: Stage name 'Scratch' should be lowercase",
      'ReservedStageName@3: Stage name should not use the same name as reserved stage "scratch"',
      'DuplicateStageName@3: Duplicate stage name "scratch", stage names should be unique',
    ]);
    // Why it is reserved: after `AS scratch`, FROM scratch names that stage (addState looks names up first).
    expect(graph('FROM alpine AS scratch\nFROM scratch\n').target.base).to.deep.equal({ kind: 'stage', index: 0 });
    expect(graph('FROM scratch\nFROM scratch AS scratch\n').target.base).to.deep.equal({ kind: 'scratch' });
  });
});

describe('stage graph: errors at file:line:col', function () {
  const cases: Array<[string, string, Omit<BuildStageGraphOptions, 'dockerfile'>, string, string, RegExp]> = [
    ['unknown target', 'FROM alpine AS a\n', { target: 'nope' }, 'Dockerfile', 'DOCKERFILE_UNKNOWN_TARGET', /target stage "nope" could not be found/],
    ['FROM a stage by another case', 'FROM alpine AS build\nFROM Build\n', {}, 'Dockerfile:2:6', 'DOCKERFILE_INVALID_REFERENCE', /failed to parse stage name "Build"/],
    ['COPY --from a later stage', 'FROM alpine AS a\nCOPY --from=b x y\nFROM alpine AS b\nFROM a\n', {}, 'Dockerfile:2:6', 'DOCKERFILE_STAGE_ORDER',
      /^cannot copy from stage "b", it needs to be defined before current stage "a"$/],
    ['COPY --from a later stage by index', 'FROM alpine\nCOPY --from=1 x y\nFROM alpine AS b\nFROM alpine\nCOPY --from=0 x y\n', {}, 'Dockerfile:2:6', 'DOCKERFILE_STAGE_ORDER',
      /^cannot copy from stage "1", it needs to be defined before current stage "stage-0"$/],
    ['COPY --from=$VAR (BuildKit never expands --from)', 'FROM alpine AS a\nARG S=a\nCOPY --from=$S x y\n', {}, 'Dockerfile:3:6', 'DOCKERFILE_INVALID_VALUE',
      /^variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround$/],
    ['COPY --from an index past the last stage', 'FROM alpine\nCOPY --from=3 x y\n', {}, 'Dockerfile:2:6', 'DOCKERFILE_INVALID_VALUE', /^invalid stage index 3$/],
    ['mount from= a later stage', 'FROM alpine AS a\nRUN --mount=from=b,target=/m true\nFROM alpine AS b\nFROM a\n', {}, 'Dockerfile:2:5', 'DOCKERFILE_STAGE_ORDER',
      /^cannot mount from stage "b" to "\/m", stage needs to be defined before current command$/],
    ['--target by index (BuildKit finds targets by name only)', 'FROM alpine AS a\nFROM alpine\n', { target: '0' }, 'Dockerfile', 'DOCKERFILE_UNKNOWN_TARGET', /target stage "0" could not be found/],
    ['COPY --from the current stage', 'FROM alpine AS a\nCOPY --from=a x y\n', {}, 'Dockerfile:2:6', 'DOCKERFILE_STAGE_CYCLE', /copy from itself/],
    ['COPY --from cycle', 'FROM alpine AS a\nCOPY --from=b x y\nFROM alpine AS b\nCOPY --from=a x y\n', {}, 'Dockerfile:2:6', 'DOCKERFILE_STAGE_CYCLE', /circular dependency detected on stage: b/],
    ['${V:?msg}', 'FROM scratch\nARG V\nWORKDIR ${V:?need V}\n', {}, 'Dockerfile:3:1', 'DOCKERFILE_VARIABLE_REQUIRED', /need V/],
    ['empty FROM', 'ARG IMG\nFROM $IMG\n', {}, 'Dockerfile:2:6', 'DOCKERFILE_EMPTY_FROM', /base name \(\$IMG\) should not be blank/],
    ['invalid stage name', 'FROM alpine AS 1bad\n', {}, 'Dockerfile:1:16', 'DOCKERFILE_INVALID_STAGE_NAME', /invalid name for build stage/],
    ['invalid image reference', 'FROM Alpine:x\n', {}, 'Dockerfile:1:6', 'DOCKERFILE_INVALID_REFERENCE', /failed to parse stage name "Alpine:x"/],
    ['unterminated expansion', 'FROM scratch\nENV A=${B\n', {}, 'Dockerfile:2:1', 'DOCKERFILE_EXPANSION', /failed to process/],
    ['invalid --platform', 'FROM --platform=a/b/c/d alpine\n', {}, 'Dockerfile:1:6', 'DOCKERFILE_INVALID_PLATFORM', /failed to parse platform/],
  ];
  for (const [name, df, opts, where, code, message] of cases) {
    it(name, function () {
      const err = dockerfileError(() => graph(df, opts));
      expect([err.location, err.code]).to.deep.equal([where, code]);
      expect(err.message).to.match(message);
    });
  }
});

describe('stage graph: build checks', function () {
  const rules = (g: StageGraph) => g.warnings.map((w) => `${w.rule}@${w.range.start.line}:${w.range.start.character + 1}`);

  it('UndefinedArgInFrom, InvalidDefaultArgInFrom, RedundantTargetPlatform', function () {
    expect(rules(graph('FROM alpine${SUFFIX}\n'))).to.deep.equal(['UndefinedArgInFrom@1:6']);
    expect(graph('FROM alpine${SUFFIX}\n').warnings[0]!.message).to.equal("FROM argument 'SUFFIX' is not declared");
    expect(rules(graph('ARG IMG\nFROM $IMG\n', { buildArgs: { IMG: 'alpine' } }))).to.deep.equal(['InvalidDefaultArgInFrom@2:6']);
    const r = graph('FROM --platform=$TARGETPLATFORM alpine\n');
    expect(rules(r)).to.deep.equal(['RedundantTargetPlatform@1:6']);
    expect(r.warnings[0]!.message).to.equal('Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior');
  });

  it('UndefinedVar: not for declared ARGs without a value, with a suggestion when close', function () {
    const g = graph('FROM scratch\nARG DECLARED\nENV A=$DECLARED\nENV NAME=x\nENV B=$NAMEE\n');
    expect(g.warnings.map((w) => w.message)).to.deep.equal(["Usage of undefined variable '$NAMEE' (did you mean $NAME?)"]);
    expect(g.warnings[0]).to.include({ url: 'https://docs.docker.com/go/dockerfile/rule/undefined-var/' });
  });

  it('WorkdirRelativePath, SecretsUsedInArgOrEnv, MultipleInstructionsDisallowed, ExposeProtoCasing, ReservedStageName', function () {
    const g = graph('FROM alpine AS context\nWORKDIR app\nWORKDIR sub\nARG API_TOKEN\nENV PUBLIC_KEY=x DB_PASSWORD=y\nCMD ["a"]\nCMD ["b"]\nEXPOSE 80/TCP\n');
    expect(g.warnings.map((w) => `${w.rule}@${w.range.start.line}: ${w.message}`)).to.deep.equal([
      'ReservedStageName@1: Stage name should not use the same name as reserved stage "context"',
      'WorkdirRelativePath@2: Relative workdir "app" can have unexpected results if the base image changes',
      'SecretsUsedInArgOrEnv@4: Do not use ARG or ENV instructions for sensitive data (ARG "API_TOKEN")',
      'SecretsUsedInArgOrEnv@5: Do not use ARG or ENV instructions for sensitive data (ENV "DB_PASSWORD")',
      'MultipleInstructionsDisallowed@6: Multiple CMD instructions should not be used in the same stage because only the last one will be used',
      "ExposeProtoCasing@8: Defined protocol '80/TCP' in EXPOSE instruction should be lowercase",
    ]);
    expect(g.target.finalConfig).to.deep.include({ Cmd: ['b'], ArgsEscaped: true, ExposedPorts: { '80/tcp': {} } });
  });

  it('rejects an invalid STOPSIGNAL at its line', function () {
    expect(graph('FROM scratch\nSTOPSIGNAL SIGKILL\nSTOPSIGNAL 9\n').target.finalConfig.StopSignal).to.equal('9');
    const err = dockerfileError(() => graph('FROM scratch\nSTOPSIGNAL SIGNOPE\n'));
    expect([err.location, err.message]).to.deep.equal(['Dockerfile:2:1', 'Invalid signal: SIGNOPE']);
  });

  it('passes the parser and instruction warnings through', function () {
    const g = graph('from alpine AS x\nRUN true\n');
    expect(g.warnings.map((w) => w.rule)).to.include.members(['FromAsCasing', 'ConsistentInstructionCasing']);
  });
});
