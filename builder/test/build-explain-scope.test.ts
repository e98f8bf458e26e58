/**
 * Explain ids are `<Dockerfile>#<target>#<stage>#<line>`, so a build is
 * explained against the last build of a Dockerfile of the same name even from
 * another checkout directory (a CI job's workspace changes every run). Another
 * project's Dockerfile with another kind of step at that line is not compared.
 */
import { expect } from 'chai';
import { explainText } from '../src/api/explain-text.js';
import { makeBuildEnv, type BuildEnv } from './build-support.js';

describe('build: what a miss is explained against', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  before(async () => (env = await makeBuildEnv('tsbuild-explain-')));
  after(() => env.cleanup());

  const explained = (events: Array<{ type: string; text?: string[] }>) =>
    events.filter((e) => e.type === 'vertex.explain').flatMap((e) => e.text ?? []);

  it('another project with another kind of step at the same line is not compared with it', async () => {
    const a = env.context({ Dockerfile: 'FROM busybox\nRUN echo a > /a\n' }, 'project-a');
    const b = env.context({ Dockerfile: 'FROM busybox\nCOPY f /f\n', f: 'x' }, 'project-b');
    await env.build({ context: a });
    const second = await env.build({ context: b });
    expect(explained(second.events)).to.deep.equal(['no previous build of this step (the last build had another kind of step here)']);
  });

  it('the same Dockerfile from another checkout directory is explained against its last build', async () => {
    await env.build({ context: env.context({ Dockerfile: 'FROM busybox\nRUN echo a > /a\n' }, 'ci-job-1') });
    const again = await env.build({ context: env.context({ Dockerfile: 'FROM busybox\nRUN echo a2 > /a\n' }, 'ci-job-2') });
    expect(explained(again.events).join('\n')).to.match(/instruction changed: RUN echo a > \/a → RUN echo a2 > \/a/);
  });

  it('turns an op-kind change into "no previous build", other reasons into their lines', () => {
    expect(explainText([{ kind: 'definition', field: 'op', old: 'exec', new: 'file' }])).to.have.length(1);
    expect(explainText([{ kind: 'content', path: 'a', change: 'changed' }])).to.deep.equal(['file "a" changed']);
  });
});
