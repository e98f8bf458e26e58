/**
 * The typed instruction model: each instruction's result, each error kind at
 * its exact file:line:column, warnings with ranges.
 */
import { expect } from 'chai';
import {
  InstructionError, InstructionErrorCode, parseGoDuration, parseInstructions, parseMountSpec,
  type Instruction,
} from '../src/instructions/index.js';
import { parseDockerfile } from '../src/parser/index.js';

const lines = (...l: string[]) => l.join('\n') + '\n';
/** The single instruction after `FROM a`. */
function one<K extends Instruction['kind']>(kind: K, line: string): Extract<Instruction, { kind: K }> {
  const res = parseInstructions(lines('FROM a', line));
  const inst = res.instructions[1]!;
  expect(inst.kind).to.equal(kind);
  return inst as Extract<Instruction, { kind: K }>;
}
function failure(text: string): InstructionError {
  try {
    parseInstructions(text, { file: 'Dockerfile.dev' });
  } catch (err) {
    expect(err).to.be.instanceOf(InstructionError);
    return err as InstructionError;
  }
  return expect.fail('expected an error');
}
const at = (line: number, character: number) => ({ line, character });

describe('instructions: stages', function () {
  it('groups instructions under their FROM, meta ARGs before the first', function () {
    const res = parseInstructions(lines('ARG V=1', 'FROM a AS build', 'RUN x', 'FROM build', 'COPY --from=build /a /b'));
    expect(res.metaArgs.map((a) => a.args)).to.deep.equal([[{ name: 'V', default: '1' }]]);
    expect(res.stages.map((s) => [s.index, s.name, s.from.image, s.instructions.map((i) => i.kind)])).to.deep.equal([
      [0, 'build', 'a', ['RUN']],
      [1, undefined, 'build', ['COPY']],
    ]);
    expect(res.instructions.map((i) => i.kind)).to.deep.equal(['ARG', 'FROM', 'RUN', 'FROM', 'COPY']);
  });

  it('accepts an already parsed result (whole-line ranges without the text)', function () {
    const parsed = parseDockerfile(lines('FROM a', 'RUN x'));
    const res = parseInstructions(parsed);
    expect(res.instructions[1]!.range).to.deep.equal({ start: at(2, 0), end: at(2, 5) });
    expect(parseInstructions(parsed.ast).stages[0]!.instructions.map((i) => i.kind)).to.deep.equal(['RUN']);
    const withText = parseInstructions(parsed, { text: lines('FROM a', 'RUN x') });
    expect(withText.instructions[1]!.keywordRange).to.deep.equal({ start: at(2, 0), end: at(2, 3) });
  });
});

describe('instructions: typed results', function () {
  it('FROM with --platform and AS, positions of image and name', function () {
    const res = parseInstructions(lines('FROM --platform=$BUILDPLATFORM golang:1.22 AS builder'));
    const from = res.stages[0]!.from;
    expect(from).to.deep.include({ image: 'golang:1.22', platform: '$BUILDPLATFORM', stageName: 'builder', original: 'FROM --platform=$BUILDPLATFORM golang:1.22 AS builder' });
    expect(from.flags).to.deep.equal([{ name: 'platform', value: '$BUILDPLATFORM', range: { start: at(1, 5), end: at(1, 30) } }]);
    expect(from.imageRange.start).to.deep.equal(at(1, 31));
    expect(from.stageNameRange!.start).to.deep.equal(at(1, 46));
  });

  it('RUN shell and exec form, mounts parsed unless they hold variables, network, security', function () {
    const run = one('RUN', 'RUN --mount=type=cache,target=/c,sharing=private,id=go --mount=type=secret,id=tok,required --mount=type=bind,from=$X,target=/s --network=host --security=insecure make');
    expect(run.command).to.deep.equal({ form: 'shell', command: 'make' });
    expect(run.mounts.map((m) => m.spec)).to.deep.equal([
      { type: 'cache', target: '/c', sharing: 'private', id: 'go', readOnly: false, required: false },
      { type: 'secret', id: 'tok', required: true, readOnly: true },
      undefined,
    ]);
    expect(run.mounts[2]!.raw).to.equal('type=bind,from=$X,target=/s');
    expect([run.network, run.security]).to.deep.equal(['host', 'insecure']);
    expect(one('RUN', 'RUN ["sh", "-c", "x"]').command).to.deep.equal({ form: 'exec', args: ['sh', '-c', 'x'] });
  });

  it('RUN heredocs become files (chomped for <<-)', function () {
    const res = parseInstructions(lines('FROM a', 'RUN <<-EOT bash', '\techo $HOME', '\tEOT'));
    const run = res.instructions[1] as Extract<Instruction, { kind: 'RUN' }>;
    expect(run.command).to.deep.equal({ form: 'shell', command: '<<-EOT bash' });
    expect(run.files).to.deep.equal([{ name: 'EOT', data: 'echo $HOME\n', expand: true, chomp: true, fileDescriptor: 0 }]);
  });

  it('CMD and ENTRYPOINT', function () {
    expect(one('CMD', 'CMD ["nginx", "-g", "daemon off;"]').command).to.deep.equal({ form: 'exec', args: ['nginx', '-g', 'daemon off;'] });
    expect(one('ENTRYPOINT', 'ENTRYPOINT exec top -b').command).to.deep.equal({ form: 'shell', command: 'exec top -b' });
    expect(one('CMD', 'CMD []').command).to.deep.equal({ form: 'exec', args: [] });
  });

  it('LABEL and ENV in both forms keep raw values', function () {
    expect(one('LABEL', 'LABEL a=1 "b c"="d e"')).to.deep.include({ labels: [{ key: 'a', value: '1' }, { key: '"b c"', value: '"d e"' }], legacyFormat: false });
    expect(one('ENV', 'ENV PATH /usr/bin:$PATH')).to.deep.include({ env: [{ key: 'PATH', value: '/usr/bin:$PATH' }], legacyFormat: true });
  });

  it('MAINTAINER, EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL, SHELL', function () {
    expect(one('MAINTAINER', 'MAINTAINER Jane <j@x>').maintainer).to.equal('Jane <j@x>');
    expect(one('EXPOSE', 'EXPOSE 80 53/udp').ports).to.deep.equal(['80', '53/udp']);
    expect(one('VOLUME', 'VOLUME ["/data", "/logs"]').volumes).to.deep.equal(['/data', '/logs']);
    expect(one('VOLUME', 'VOLUME /data /logs').volumes).to.deep.equal(['/data', '/logs']);
    expect(one('USER', 'USER app:app').user).to.equal('app:app');
    expect(one('WORKDIR', 'WORKDIR /src/app').path).to.equal('/src/app');
    expect(one('STOPSIGNAL', 'STOPSIGNAL SIGQUIT').signal).to.equal('SIGQUIT');
    expect(one('SHELL', 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]').shell).to.deep.equal(['/bin/bash', '-o', 'pipefail', '-c']);
  });

  it('ADD with all its flags', function () {
    const add = one('ADD', 'ADD --chown=1:2 --chmod=644 --checksum=sha256:abc --keep-git-dir --link --exclude=*.md --exclude=x --unpack=false https://x/a.tar /dst/');
    expect(add).to.deep.include({
      sources: ['https://x/a.tar'], dest: '/dst/', chown: '1:2', chmod: '644', checksum: 'sha256:abc',
      keepGitDir: true, link: true, exclude: ['*.md', 'x'], unpack: false, jsonForm: false,
    });
  });

  it('COPY with its flags, JSON form, and heredoc sources as inline files', function () {
    const copy = one('COPY', 'COPY --from=build --chown=app --chmod=755 --link --parents --exclude=*.tmp ["a b", "c", "/d/"]');
    expect(copy).to.deep.include({ sources: ['a b', 'c'], dest: '/d/', from: 'build', chown: 'app', chmod: '755', link: true, parents: true, exclude: ['*.tmp'], jsonForm: true });
    const res = parseInstructions(lines('FROM a', "COPY <<one <<'two' src /dest/", 'hello $X', 'one', 'raw $X', 'two'));
    const c = res.instructions[1] as Extract<Instruction, { kind: 'COPY' }>;
    expect(c.sources).to.deep.equal(['src']);
    expect(c.inlineFiles.map((f) => [f.name, f.data, f.expand])).to.deep.equal([['one', 'hello $X\n', true], ['two', 'raw $X\n', false]]);
  });

  it('ARG with and without defaults, several per line', function () {
    expect(one('ARG', 'ARG A B=2 C="x y"').args).to.deep.equal([{ name: 'A' }, { name: 'B', default: '2' }, { name: 'C', default: '"x y"' }]);
  });

  it('ONBUILD keeps the trigger text and its converted form', function () {
    const on = one('ONBUILD', 'ONBUILD COPY --from=x . /app');
    expect(on.expression).to.equal('COPY --from=x . /app');
    expect(on.trigger).to.deep.include({ kind: 'COPY', from: 'x', sources: ['.'], dest: '/app' });
    expect(on.trigger!.flags[0]!.range.start).to.deep.equal(at(2, 13));
  });

  it('HEALTHCHECK NONE and CMD with Go durations', function () {
    expect(one('HEALTHCHECK', 'HEALTHCHECK NONE').test).to.deep.equal({ type: 'NONE' });
    const hc = one('HEALTHCHECK', 'HEALTHCHECK --interval=1m30s --timeout=1.5s --start-period=0s --start-interval=250ms --retries=3 CMD ["curl", "-f", "http://x/"]');
    expect(hc.test).to.deep.equal({ type: 'CMD', command: { form: 'exec', args: ['curl', '-f', 'http://x/'] } });
    expect(hc.options).to.deep.equal({ interval: 90e9, timeout: 1.5e9, startPeriod: 0, startInterval: 250e6, retries: 3 });
  });

  it('parses durations like Go time.ParseDuration', function () {
    expect(parseGoDuration('1h2m3.5s')).to.equal(3723.5e9);
    expect(parseGoDuration('2us')).to.equal(2000);
    expect(parseGoDuration('-1.5ms')).to.equal(-1.5e6);
    expect(() => parseGoDuration('10')).to.throw('missing unit');
    expect(() => parseGoDuration('1d')).to.throw('unknown unit');
  });

  it('parses mount specs with defaults and BuildKit messages', function () {
    expect(parseMountSpec('target=/x')).to.deep.equal({ type: 'bind', target: '/x', readOnly: true, required: false });
    expect(parseMountSpec('type=bind,src=a,dst=/x,rw')).to.deep.include({ source: 'a', target: '/x', readOnly: false });
    expect(parseMountSpec('type=tmpfs,destination=/t,size=64m')).to.deep.include({ sizeBytes: 64 * 1024 * 1024, readOnly: false });
    expect(parseMountSpec('type=cache,target=/c,mode=0755,uid=1,gid=2')).to.deep.include({ mode: 0o755, uid: 1, gid: 2, sharing: 'shared' });
    expect(parseMountSpec('type=ssh,id=default,readonly=false')).to.deep.include({ type: 'ssh', id: 'default', readOnly: false });
    expect(() => parseMountSpec('type=nfs,target=/x')).to.throw('unsupported mount type "nfs"');
    expect(() => parseMountSpec('type=bind,target=/x,mode=0600')).to.throw('mode not allowed for "bind" type mounts');
    expect(() => parseMountSpec('type=bind,target=/x,sharing=locked')).to.throw('invalid cache sharing set for bind mount');
    expect(parseMountSpec('from=binaries')).to.deep.equal({ type: 'bind', from: 'binaries', readOnly: true, required: false });
    expect(() => parseMountSpec('type=cache,target=/x,sharing=weird')).to.throw('unsupported sharing value "weird"');
  });
});

describe('instructions: errors at file:line:column with the line text', function () {
  const cases: Array<[string, string, string, string, string]> = [
    // name, Dockerfile, code, location, message
    ['unknown instruction', lines('FROM a', 'RUNN x'), InstructionErrorCode.UnknownInstruction, 'Dockerfile.dev:2:1', 'unknown instruction: RUNN (did you mean RUN?)'],
    ['unknown flag', lines('FROM a', 'COPY --form=x a b'), InstructionErrorCode.UnknownFlag, 'Dockerfile.dev:2:6', 'unknown flag: form'],
    ['duplicate flag', lines('FROM a', 'COPY --from=x --from=y a b'), InstructionErrorCode.DuplicateFlag, 'Dockerfile.dev:2:15', 'duplicate flag specified: from'],
    ['string flag without value', lines('FROM a', 'COPY --chown a b'), InstructionErrorCode.BadFlagValue, 'Dockerfile.dev:2:6', 'missing a value on flag: chown'],
    ['bad boolean', lines('FROM a', 'COPY --link=yes a b'), InstructionErrorCode.BadFlagValue, 'Dockerfile.dev:2:6', 'expecting boolean value for flag link, not: yes'],
    ['bad network', lines('FROM a', 'RUN --network=bridge x'), InstructionErrorCode.BadFlagValue, 'Dockerfile.dev:2:5', 'unsupported network mode "bridge"'],
    ['bad security', lines('FROM a', 'RUN --security=root x'), InstructionErrorCode.BadFlagValue, 'Dockerfile.dev:2:5', 'unsupported security mode "root"'],
    ['bad mount', lines('FROM a', 'RUN --mount=type=cache,target=/x,uid=abc x'), InstructionErrorCode.InvalidMount, 'Dockerfile.dev:2:5', 'invalid value abc for uid'],
    ['missing arguments', lines('FROM a', 'COPY a'), InstructionErrorCode.ArgumentCount, 'Dockerfile.dev:2:1', 'COPY requires at least two arguments, but only one was provided. Destination could not be determined'],
    ['FROM argument count', lines('FROM a b'), InstructionErrorCode.ArgumentCount, 'Dockerfile.dev:1:1', 'FROM requires either one or three arguments'],
    ['bad stage name', lines('FROM a AS 1st'), InstructionErrorCode.InvalidStageName, 'Dockerfile.dev:1:11', 'invalid name for build stage: "1st", name can\'t start with a number or contain symbols'],
    ['ONBUILD ONBUILD', lines('FROM a', 'ONBUILD ONBUILD RUN x'), InstructionErrorCode.OnbuildTrigger, 'Dockerfile.dev:2:9', "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"],
    ['ONBUILD FROM', lines('FROM a', 'ONBUILD FROM b'), InstructionErrorCode.OnbuildTrigger, 'Dockerfile.dev:2:9', "FROM isn't allowed as an ONBUILD trigger"],
    ['ONBUILD MAINTAINER', lines('FROM a', 'ONBUILD MAINTAINER me'), InstructionErrorCode.OnbuildTrigger, 'Dockerfile.dev:2:9', "MAINTAINER isn't allowed as an ONBUILD trigger"],
    ['SHELL not JSON', lines('FROM a', 'SHELL /bin/sh -c'), InstructionErrorCode.ShellNotJson, 'Dockerfile.dev:2:1', 'SHELL requires the arguments to be in JSON form'],
    ['bad duration', lines('FROM a', 'HEALTHCHECK --timeout=5 CMD x'), InstructionErrorCode.InvalidDuration, 'Dockerfile.dev:2:13', 'time: missing unit in duration "5"'],
    ['duration under 1ms', lines('FROM a', 'HEALTHCHECK --interval=10us CMD x'), InstructionErrorCode.InvalidDuration, 'Dockerfile.dev:2:13', 'Interval "interval" cannot be less than 1ms'],
    ['negative retries', lines('FROM a', 'HEALTHCHECK --retries=-1 CMD x'), InstructionErrorCode.BadFlagValue, 'Dockerfile.dev:2:13', '--retries cannot be negative (-1)'],
    ['unknown healthcheck type', lines('FROM a', 'HEALTHCHECK RUN x'), InstructionErrorCode.InvalidHealthcheck, 'Dockerfile.dev:2:13', 'Unknown type "RUN" in HEALTHCHECK (try CMD)'],
    ['USER with nothing', lines('FROM a', 'USER'), InstructionErrorCode.ArgumentCount, 'Dockerfile.dev:2:1', 'USER requires exactly one argument'],
    ['flag on ENV', lines('FROM a', 'ENV --x=1 a=b'), InstructionErrorCode.UnknownFlag, 'Dockerfile.dev:2:1', 'unknown flag: x'],
    ['instruction before FROM', lines('RUN x', 'FROM a'), InstructionErrorCode.NoStage, 'Dockerfile.dev:1:1', 'no build stage in current context'],
    ['heredoc as destination', lines('FROM a', 'COPY a <<EOF', 'x', 'EOF'), InstructionErrorCode.BadHeredoc, 'Dockerfile.dev:2:8', 'COPY cannot use a heredoc as the destination'],
  ];
  for (const [name, text, code, location, message] of cases) {
    it(name, function () {
      const err = failure(text);
      expect({ code: err.code, location: err.location, message: err.message }).to.deep.equal({ code, location, message });
      expect(err.file).to.equal('Dockerfile.dev');
      const line = err.range!.start.line;
      expect(err.lineText).to.equal(text.split('\n')[line - 1]);
    });
  }

  it('points at the flag on a continuation line', function () {
    const err = failure(lines('FROM a', 'COPY \\', '  --chmod=644 \\', '  --bogus=1 a b'));
    expect(err.location).to.equal('Dockerfile.dev:4:3');
    expect(err.lineText).to.equal('  --bogus=1 a b');
  });
});

describe('instructions: warnings', function () {
  const url = (rule: string) => `https://docs.docker.com/go/dockerfile/rule/${rule}/`;

  it('reports each BuildKit check with its range and docs url', function () {
    const res = parseInstructions(lines(
      'FROM a as Build',   // 1: FromAsCasing, StageNameCasing
      'MAINTAINER me',     // 2: MaintainerDeprecated
      'ENV k v',           // 3: LegacyKeyValueFormat
      'cmd echo hi',       // 4: ConsistentInstructionCasing, JSONArgsRecommended
      'ENTRYPOINT ["x"]',  // 5: nothing
      'RUN a \\',          // 6: NoEmptyContinuation (from the parser)
      '',
      '  b',
    ));
    const got = res.warnings.map((w) => [w.rule, w.range.start.line, w.range.start.character, w.url]);
    expect(got).to.deep.equal([
      ['StageNameCasing', 1, 10, url('stage-name-casing')],
      ['FromAsCasing', 1, 7, url('from-as-casing')],
      ['MaintainerDeprecated', 2, 0, url('maintainer-deprecated')],
      ['LegacyKeyValueFormat', 3, 0, url('legacy-key-value-format')],
      ['JSONArgsRecommended', 4, 0, url('json-args-recommended')],
      ['ConsistentInstructionCasing', 4, 0, url('consistent-instruction-casing')],
      ['NoEmptyContinuation', 6, 0, url('no-empty-continuation')],
    ]);
    expect(res.warnings.find((w) => w.rule === 'ConsistentInstructionCasing')!.message)
      .to.equal("Command 'cmd' should match the case of the command majority (uppercase)");
    expect(res.warnings.find((w) => w.rule === 'FromAsCasing')!.message).to.equal("'as' and 'FROM' keywords' casing do not match");
  });

  it('stays quiet for a clean Dockerfile', function () {
    expect(parseInstructions(lines('FROM a AS b', 'ENV k=v', 'CMD ["x"]')).warnings).to.deep.equal([]);
  });
});
