import { expect } from 'chai';
import { isInvalidArgument } from '@tsbuild/core';
import { execFailureExitCode, signalExitCode } from '../src/containers/exit-codes.js';
import { commandLine, mergeEnv, parseEnvFile, processRequest } from '../src/containers/process-config.js';
import { commandText, statusText } from '../src/containers/ps-format.js';
import { effectiveStatus, type ContainerRecord } from '../src/containers/records.js';
import { parseVolume } from '../src/containers/volumes.js';

describe('tsbuild run: docker-run rules as pure functions', () => {
  const image = { Entrypoint: ['/ep'], Cmd: ['default', 'cmd'] };

  it('applies docker\'s Entrypoint/Cmd override rules', () => {
    expect(commandLine(image, undefined, [])).to.deep.equal(['/ep', 'default', 'cmd']);
    expect(commandLine(image, undefined, ['a'])).to.deep.equal(['/ep', 'a']);
    expect(commandLine(image, 'other', [])).to.deep.equal(['other']); // --entrypoint resets Cmd
    expect(commandLine(image, 'other', ['x'])).to.deep.equal(['other', 'x']);
    expect(commandLine(image, '', ['sh'])).to.deep.equal(['sh']); // --entrypoint '' clears it
    expect(commandLine({ Cmd: ['sh'] }, undefined, [])).to.deep.equal(['sh']);
    expect(() => commandLine({ Entrypoint: null, Cmd: null }, undefined, [])).to.throw().that.satisfies(isInvalidArgument);
    expect(() => commandLine(image, '', [])).to.throw(/no command specified/);
  });

  it('merges env: image, then env files, then -e; a bare K copies the caller\'s value or is dropped', () => {
    expect(mergeEnv(['A=1', 'B=2'], ['B=3', 'C', 'D', 'E='], { C: 'from-caller' })).to.deep.equal(['A=1', 'B=3', 'C=from-caller', 'E=']);
    expect(parseEnvFile('# comment\n\n  X=1 2 "3"\nY\r\nZ=a=b\n')).to.deep.equal(['X=1 2 "3"', 'Y', 'Z=a=b']);
    expect(() => parseEnvFile('BAD KEY=1')).to.throw(/invalid variable name/);
    expect(() => mergeEnv([], ['=x'], {})).to.throw(/invalid environment variable/);
  });

  it('builds the process: HOSTNAME, WorkingDir/-w, User/-u', () => {
    const config = { Env: ['PATH=/bin', 'A=1'], WorkingDir: '/app', User: 'nobody', Cmd: ['sh'] };
    const base = { args: [], envFiles: ['A=file\n'], env: ['B=2'], hostname: 'abc' };
    expect(processRequest(config, base, {})).to.deep.equal({ args: ['sh'], env: ['HOSTNAME=abc', 'PATH=/bin', 'A=file', 'B=2'], cwd: '/app', user: 'nobody' });
    const over = processRequest(config, { ...base, workdir: '/w', user: '1000:1000' }, {});
    expect([over.cwd, over.user]).to.deep.equal(['/w', '1000:1000']);
    expect(processRequest({ Cmd: ['sh'] }, base, {})).to.not.have.property('user');
    expect(processRequest({ Cmd: ['sh'] }, base, {}).cwd).to.equal('/');
    expect(() => processRequest(config, { ...base, workdir: 'rel' }, {})).to.throw(/absolute path/);
  });

  it('parses -v HOST:CONTAINER[:ro|rw]', () => {
    expect(parseVolume('/h:/c', '/x')).to.deep.equal({ type: 'bind', source: '/h', target: '/c', readonly: false, writeThrough: true });
    expect(parseVolume('./d:/c:ro', '/x')).to.deep.equal({ type: 'bind', source: '/x/d', target: '/c', readonly: true });
    for (const bad of ['/h', 'named:/c', '/h:rel', '/h:/c:zz', '/h::/c']) expect(() => parseVolume(bad, '/x'), bad).to.throw(/volume/);
  });

  it('maps the runtimes\' exec failures to 126/127 and signals to 128+n', () => {
    expect(execFailureExitCode('executable file `nosuch` not found in $PATH: No such file or directory\n')).to.equal(127);
    expect(execFailureExitCode('open executable: Permission denied\n')).to.equal(126);
    expect(execFailureExitCode('time="x" level=error msg="runc run failed: unable to start container process: exec: \\"nosuch\\": executable file not found in $PATH"')).to.equal(127);
    expect(execFailureExitCode('time="x" level=error msg="runc run failed: unable to start container process: exec: \\"/etc\\": permission denied"')).to.equal(126);
    expect(execFailureExitCode('hello\nexecutable file `x` not found in $PATH\n')).to.equal(undefined); // the container's own output
    expect(execFailureExitCode('')).to.equal(undefined);
    expect(signalExitCode(new Error('interrupted (SIGTERM)'))).to.equal(143);
    expect(signalExitCode(new Error('interrupted (SIGINT)'))).to.equal(130);
  });

  it('formats ps columns; a "running" record whose process is gone is Dead', () => {
    const now = Date.parse('2026-01-01T00:10:00Z');
    const r: ContainerRecord = { id: 'a'.repeat(64), name: 'n', image: 'i', imageId: 'sha256:x', command: ['sh', '-c', 'exit 3'], created: '2026-01-01T00:00:00Z', status: 'exited', exitCode: 3, finishedAt: '2026-01-01T00:08:00Z', snapshotKey: 'k' };
    expect(statusText(r, now)).to.equal('Exited (3) 2 minutes ago');
    expect(statusText({ ...r, status: 'running', pid: process.pid }, now)).to.equal('Up 10 minutes');
    expect(effectiveStatus({ ...r, status: 'running', pid: 2 ** 22 + 1 })).to.equal('dead');
    expect(statusText({ ...r, status: 'created' }, now)).to.equal('Created');
    expect(commandText(r.command)).to.equal(`"sh -c 'exit 3'"`);
    expect(commandText(['echo', 'a very long argument list'])).to.equal('"echo \'a very long a…"');
  });
});
