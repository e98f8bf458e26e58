/** Miss explanations compare a step with the previous build of the same Dockerfile, never another project's. */
import { expect } from 'chai';
import { makeBuildEnv, type BuildEnv } from './build-support.js';

describe('build: explanations are scoped to one Dockerfile', function () {
  this.timeout(120_000);
  let env: BuildEnv;
  before(async () => (env = await makeBuildEnv('tsbuild-explain-')));
  after(() => env.cleanup());

  const explained = (events: Array<{ type: string; text?: string[] }>) =>
    events.filter((e) => e.type === 'vertex.explain').flatMap((e) => e.text ?? []);

  it('a second project with a Dockerfile of its own is not explained against the first', async () => {
    const a = env.context({ Dockerfile: 'FROM busybox\nRUN echo a > /a\n' }, 'project-a');
    const b = env.context({ Dockerfile: 'FROM busybox\nCOPY f /f\n', f: 'x' }, 'project-b');
    await env.build({ context: a });
    const second = await env.build({ context: b });
    expect(explained(second.events)).to.deep.equal(['no previous build of this step']);
  });

  it('the same project is still explained against its own last build', async () => {
    const a = env.context({ Dockerfile: 'FROM busybox\nRUN echo a2 > /a\n' }, 'project-a');
    const again = await env.build({ context: a });
    expect(explained(again.events).join('\n')).to.match(/instruction changed|RUN/);
  });
});
