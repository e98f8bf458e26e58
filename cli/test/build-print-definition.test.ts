/**
 * `tsbuild build --print definition` (issue 12): the build's definition as
 * JSON, bases resolved from the store, nothing run. Two of them diff to the
 * vertices a rebuild would redo.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkDefinition, diffDefinitions } from '@tsbuild/builder';
import { makeBusyboxRootfs, tempDir } from '../../test/support/fixtures.js';
import { tsbuild } from './support.js';

describe('tsbuild build --print definition', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  before(async () => {
    tmp = tempDir('tsbuild-print-def-');
    root = join(tmp.path, 'store');
    const imported = await tsbuild(root, 'import', makeBusyboxRootfs(join(tmp.path, 'rootfs')), '-t', 'busybox:latest');
    expect(imported.code, imported.stderr).to.equal(0);
  });
  after(() => tmp.cleanup());

  it('prints a definition the builder accepts, runs nothing, and two of them diff to what a build arg changes', async () => {
    const ctx = join(tmp.path, 'ctx');
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nARG V\nRUN echo $V > /v\nCOPY . /src\n');
    const print = async (v: string) => {
      const r = await tsbuild(root, 'build', '--print', 'definition', '--build-arg', `V=${v}`, ctx);
      expect(r.code, r.stderr).to.equal(0);
      return checkDefinition(JSON.parse(r.stdout));
    };
    const one = await print('1');
    expect(one.vertices.map((v) => v.op.op)).to.deep.equal(['source', 'exec', 'file']);
    expect(one.vertices[0]!.name).to.match(/^\[1\/3\] FROM busybox:latest@sha256:[0-9a-f]{64}$/);
    expect(existsSync(join(root, 'cache', 'records')), 'no step ran (no cache record)').to.equal(false);
    const changes = diffDefinitions(one, await print('2'));
    expect(changes.map((c) => [c.name, c.change === 'changed' ? c.fields : []])).to.deep.equal([
      ['[2/3] RUN echo $V > /v', ['buildArgs.V']],
      ['[3/3] COPY . /src', []],
    ]);
  });
});
