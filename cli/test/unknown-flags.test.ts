import { expect } from 'chai';
import { commands } from '../src/commands/index.js';
import { tsbuild } from './support.js';

/** Issue 15 point 5: flag errors in cobra/pflag's words, and buildx flags of later issues answered in one line. */
describe('flag errors: unknown flags and buildx flags not supported yet', () => {
  it('every command answers an unknown flag with `unknown flag: --foo` and its usage line (exit 2)', async () => {
    for (const c of commands) {
      const r = await tsbuild('/nonexistent-root', c.name, '--foo');
      expect(r.code, c.name).to.equal(2);
      expect(r.stderr, c.name).to.equal(`error: unknown flag: --foo\nUsage: tsbuild ${c.name} ${c.usage}\n`);
    }
  });

  it('names an unknown shorthand, a flag missing its value, and a value given to a boolean as pflag does', async () => {
    const usage = 'Usage: tsbuild build [OPTIONS] CONTEXT|-\n';
    expect((await tsbuild('/nonexistent-root', 'build', '-z', '.')).stderr).to.equal(`error: unknown shorthand flag: 'z' in -z\n${usage}`);
    expect((await tsbuild('/nonexistent-root', 'build', '--foo=bar', '.')).stderr).to.equal(`error: unknown flag: --foo\n${usage}`);
    expect((await tsbuild('/nonexistent-root', 'build', '.', '--tag')).stderr).to.equal(`error: flag needs an argument: --tag\n${usage}`);
    expect((await tsbuild('/nonexistent-root', 'build', '--no-cache=yes', '.')).stderr).to.equal(`error: flag --no-cache takes no value\n${usage}`);
  });

  it('answers each flag of a later issue with one "not supported yet" line (exit 1), before any build starts', async () => {
    const cases: Array<[string[], string]> = [
      [['--provenance', 'mode=max'], '--provenance'],
      [['--sbom', 'true'], '--sbom'],
      [['--attest', 'type=sbom'], '--attest'],
      [['--builder', 'mybuilder'], '--builder (tsbuild builds in-process)'],
    ];
    for (const [flags, what] of cases) {
      const r = await tsbuild('/nonexistent-root', 'build', ...flags, '/nonexistent-context');
      expect(r.code, flags.join(' ')).to.equal(1);
      expect(r.stderr).to.equal(`error: ${what} is not supported yet\n`);
    }
  });

  it('accepts --provenance=false and --sbom=false: tsbuild writes no attestations anyway', async () => {
    const r = await tsbuild('/nonexistent-root', 'build', '--provenance=false', '--sbom=false', '/nonexistent-context');
    expect(r.stderr).to.not.match(/not supported|unknown flag/);
    expect(r.stderr).to.match(/nonexistent-context/);
  });
});
