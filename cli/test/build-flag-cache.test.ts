import { expect } from 'chai';
import { parseBuildFlags } from '../src/build-flags.js';
import { buildCommand } from '../src/commands/build.js';
import { parseCommandArgs, UsageError } from '../src/main.js';

const parse = (...argv: string[]) => parseBuildFlags(parseCommandArgs(buildCommand, [...argv, '.']), {}).options;
const usage = (...argv: string[]): string => {
  try {
    parse(...argv);
  } catch (err) {
    expect(err).to.be.instanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`expected a usage error for ${argv.join(' ')}`);
};

describe('tsbuild build --cache-from / --cache-to values (buildx CSV, BuildKit attributes)', () => {
  it('parses registry, local and inline specs into the build options, in order', () => {
    expect(parse('--cache-from', 'r.example/app:cache', '--cache-from', 'type=local,src=/c,tag=t1').cacheFrom).to.deep.equal([
      { type: 'registry', ref: 'r.example/app:cache' },
      { type: 'local', src: '/c', tag: 't1' },
    ]);
    expect(parse(
      '--cache-to', 'type=registry,ref=r.example/app:cache,mode=max,image-manifest=false,oci-mediatypes=true,compression=zstd,ignore-error=true,cache-mounts=true',
      '--cache-to', 'type=local,dest=/out,compression=uncompressed',
      '--cache-to', 'type=inline',
    ).cacheTo).to.deep.equal([
      { type: 'registry', ref: 'r.example/app:cache', mode: 'max', imageManifest: false, compression: 'zstd', ignoreError: true, cacheMounts: true },
      { type: 'local', dest: '/out', compression: 'none' },
      { type: 'inline' },
    ]);
    expect(parse()).to.not.have.property('cacheFrom');
  });

  it('names the flag and the attribute of a bad value', () => {
    expect(usage('--cache-to', 'type=registry')).to.equal('--cache-to: type=registry needs ref=');
    expect(usage('--cache-from', 'type=local')).to.equal('--cache-from: type=local needs src=');
    expect(usage('--cache-to', 'type=registry,ref=r/a,mode=all')).to.equal('--cache-to: mode= expects min or max, got "all"');
    expect(usage('--cache-to', 'type=inline,mode=max')).to.equal('--cache-to: type=inline supports only mode=min (as BuildKit\'s inline cache)');
    expect(usage('--cache-to', 'type=registry,ref=r/a,oci-mediatypes=false')).to.match(/oci-mediatypes=false is not supported/);
    expect(usage('--cache-to', 'type=registry,ref=r/a,compression=estargz')).to.match(/compression= expects uncompressed, gzip or zstd/);
    expect(usage('--cache-from', 'type=gha')).to.match(/type=gha is not supported/);
    expect(usage('--cache-from', 'type=registry,ref=r/a,mode=max')).to.match(/unknown attribute mode= for type=registry/);
  });
});
