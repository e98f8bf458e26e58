/**
 * The real-world corpus (official images and BuildKit's own Dockerfiles)
 * through the whole frontend: each Dockerfile becomes a stage graph with the
 * default build args and the last stage as target, without an error, and the
 * graph is consistent (target reachable, edges between existing stages,
 * every reachable stage with its FROM line).
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { conformanceAvailable, conformanceDir, findDockerfiles, readConformance, requireConformance } from '../../test/support/conformance.js';
import { buildStageGraph } from '../src/stages/index.js';
import { printStageGraph } from '../src/print/index.js';


const files = conformanceAvailable ? findDockerfiles(join(conformanceDir, 'real-world')) : [];
const linux = { os: 'linux', architecture: 'amd64' };

describe('real-world Dockerfiles → stage graph', function () {
  before(function () {
    requireConformance(this);
  });

  it('finds the whole corpus (52 Dockerfiles)', function () {
    expect(files).to.have.length(52);
  });

  for (const rel of files) {
    it(rel, function () {
      const g = buildStageGraph({ dockerfile: readConformance(rel), file: rel, platform: { build: linux, target: linux } });
      expect(g.target.index).to.equal(g.stages.length - 1);
      expect(g.reachable).to.include(g.target.index);
      for (const e of g.edges) {
        expect(e.to).to.be.within(0, g.stages.length - 1);
        expect(e.from).to.not.equal(e.to);
      }
      for (const i of g.reachable) {
        const s = g.stages[i]!;
        expect(s.fromRange.start.line).to.be.greaterThan(0);
        for (const step of s.steps) if (step.history) expect(step.history.created_by).to.match(new RegExp(`^${step.kind} `));
      }
      for (const f of ['outline', 'dot', 'json'] as const) expect(printStageGraph(g, f)).to.be.a('string').and.not.equal('');
    });
  }
});
