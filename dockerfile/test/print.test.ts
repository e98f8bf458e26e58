/** The stage-graph printers: outline for people, dot for Graphviz, json for tools. */
import { expect } from 'chai';
import { printDot, printJson, printOutline, printStageGraph } from '../src/print/index.js';
import { buildStageGraph } from '../src/stages/index.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const df = [
  'ARG VERSION=1.2', 'FROM alpine:${VERSION} AS build', 'ARG VERSION', 'WORKDIR /src', 'RUN make', 'FROM build AS unused',
  'FROM scratch', 'COPY --from=build /src/out /app', 'RUN --mount=type=cache,target=/c,from=build true', 'ENV X=$NOPE', '',
].join('\n');
const graph = () => buildStageGraph({ dockerfile: df, file: 'Dockerfile.app', buildArgs: { VERSION: '3.19', EXTRA: 'x' }, platform: { build: amd64, target: amd64 } });

describe('print: outline', function () {
  it('lists stages, bases, platforms, expanded steps with lines, reachability, build args and warnings', function () {
    const lines = printOutline(graph()).split('\n');
    expect(lines[0]).to.equal('target: #2 (reaches #0 build, #2)');
    expect(lines).to.include('build args: VERSION=3.19');
    expect(lines).to.include('unused build args: EXTRA');
    expect(lines).to.include.members([
      'stage #0 build', '  from alpine:3.19  platform linux/amd64  (line 2)', '     3  ARG VERSION="3.19"', '     4  WORKDIR /src', '     5  RUN make',
      'stage #1 unused (unreachable: never runs)', '  from stage #0 build  platform linux/amd64  (line 6)',
      '     8  COPY --from=stage #0 build /src/out /app', '     9  RUN --mount=type=cache,target=/c from stage #0 build true',
      '    10  ENV X=""', 'warnings:', "  Dockerfile.app:10:1: UndefinedVar: Usage of undefined variable '$NOPE'",
    ]);
  });
});

describe('print: dot', function () {
  it('is a digraph with a node per stage, labelled edges and greyed unreachable stages', function () {
    const dot = printDot(graph());
    expect(dot.startsWith('digraph stages {\n')).to.equal(true);
    expect(dot.trimEnd().endsWith('}')).to.equal(true);
    expect(dot).to.contain('s0 [label="#0 build\\nalpine:3.19\\nlinux/amd64"];');
    expect(dot).to.contain('s1 [label="#1 unused\\nstage #0 build\\nlinux/amd64", color=grey, fontcolor=grey, style=dashed];');
    expect(dot).to.contain('s2 [label="#2\\nscratch\\nlinux/amd64", penwidth=2];');
    expect(dot).to.contain('s1 -> s0 [label="FROM", color=grey, fontcolor=grey];');
    expect(dot).to.contain('s2 -> s0 [label="COPY --from"];');
    expect(dot).to.contain('s2 -> s0 [label="mount"];');
  });
});

describe('print: json', function () {
  it('is the typed model as JSON, without the raw instruction objects', function () {
    const g = graph();
    const parsed = JSON.parse(printJson(g));
    expect(parsed.stages).to.have.length(3);
    expect(parsed.reachable).to.deep.equal([0, 2]);
    expect(parsed.target.index).to.equal(2);
    expect(parsed.unusedBuildArgs).to.deep.equal(['EXTRA']);
    expect(parsed.stages[0].steps[2].history.created_by).to.equal('RUN |1 VERSION=3.19 /bin/sh -c make # buildkit');
    expect(parsed.stages[0].steps[0]).to.not.have.property('instruction');
    expect(parsed.edges[0]).to.deep.include({ from: 1, to: 0, kind: 'from' });
  });
});

describe('printStageGraph', function () {
  it('dispatches on the format', function () {
    const g = graph();
    expect(printStageGraph(g, 'outline')).to.equal(printOutline(g));
    expect(printStageGraph(g, 'dot')).to.equal(printDot(g));
    expect(printStageGraph(g, 'json')).to.equal(printJson(g));
  });
});
