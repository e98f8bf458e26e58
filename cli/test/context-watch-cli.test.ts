/**
 * The context watcher as the CLI uses it (issue 15): contexts built once
 * start no daemon; contexts built twice share the store's one daemon.
 * Daemons are counted by their command line (the store's socket path).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { tsbuild } from './support.js';
import { daemonPids, stopDaemons, until } from '../../test/support/watch-daemons.js';

describe('tsbuild build: the context watcher across many contexts', function () {
  this.timeout(180_000);
  let dir: string;
  let root: string;
  let contexts: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsbuild-cliwatch-'));
    root = join(dir, 'store');
    contexts = Array.from({ length: 30 }, (_, i) => {
      const c = join(dir, `c${i}`);
      mkdirSync(join(c, 'sub'), { recursive: true });
      writeFileSync(join(c, 'sub/f'), String(i));
      writeFileSync(join(c, 'Dockerfile'), 'FROM scratch\nCOPY . /\n');
      return c;
    });
  });

  afterEach(async () => {
    await stopDaemons(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  const build = async (c: string) => {
    const r = await tsbuild(root, 'build', '-q', c);
    expect(r.code, r.stderr).to.equal(0);
  };

  it('30 contexts built once each leave no watcher; built twice each, exactly one', async () => {
    for (const c of contexts) await build(c);
    await new Promise((r) => setTimeout(r, 300));
    expect(daemonPids(dir), 'first builds start nothing').to.have.length(0);
    for (const c of contexts) await build(c);
    // A daemon spawned while another was still starting loses the bind and exits.
    await until('exactly one daemon for the store', () => daemonPids(dir).length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(daemonPids(dir)).to.have.length(1);
  });
});
