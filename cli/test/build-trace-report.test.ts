import { expect } from 'chai';
import { htmlReport } from '../src/report/html-report.js';
import { axisTicks, tickLabel } from '../src/report/svg.js';
import { activeVertices, modelOf } from '../src/progress/model.js';
import { assignLanes } from '../src/trace/lanes.js';
import { chromeTrace } from '../src/trace/chrome-trace.js';
import { FINAL, FROM, NUMBERS, T0, WORDS, failedBuild, successfulBuild } from './progress-fixtures.js';

describe('build --trace: Chrome trace', () => {
  const trace = JSON.parse(JSON.stringify(chromeTrace(successfulBuild())));

  it('is Trace Event Format JSON: complete events in microseconds since the build began', () => {
    expect(trace.displayTimeUnit).to.equal('ms');
    const complete = trace.traceEvents.filter((e: { ph: string }) => e.ph === 'X');
    const numbers = complete.find((e: { args: { id: string } }) => e.args.id === NUMBERS);
    expect(numbers).to.include({ name: '[numbers 2/2] RUN seq 1 3', ts: 20_000, dur: 300_000, pid: 1 });
    expect(numbers.args.rebuilding).to.deep.equal(['instruction changed: "seq 1 2" → "seq 1 3"']);
    for (const e of trace.traceEvents) {
      expect(e).to.have.all.keys(e.ph === 'X' ? ['name', 'cat', 'ph', 'ts', 'dur', 'pid', 'tid', 'args'] : e.ph === 'i' ? ['name', 'cat', 'ph', 's', 'ts', 'pid', 'tid', 'args'] : ['name', 'ph', 'ts', 'pid', 'tid', 'args']);
      expect(Number.isInteger(e.ts)).to.equal(true);
    }
  });

  it('puts steps that ran at the same time on different lanes and reuses a free lane', () => {
    const tid = (id: string) => trace.traceEvents.find((e: { ph: string; args: { id?: string } }) => e.ph === 'X' && e.args.id === id).tid;
    expect(tid(NUMBERS)).not.to.equal(tid(WORDS));
    expect(tid(FINAL)).to.equal(tid(NUMBERS)); // numbers' lane is free again when the COPY starts
    const lanes = trace.traceEvents.filter((e: { name: string }) => e.name === 'thread_name');
    expect(lanes).to.have.length(2);
  });

  it('shows cache hits as instant events and exports as their own slices', () => {
    const cached = trace.traceEvents.filter((e: { ph: string }) => e.ph === 'i');
    expect(cached).to.have.length(1);
    expect(cached[0]).to.include({ name: 'CACHED [numbers 1/2] FROM docker.io/library/busybox:latest', s: 't', ts: 10_000 });
    expect(cached[0].args.id).to.equal(FROM);
    expect(trace.traceEvents.some((e: { cat?: string; name: string }) => e.cat === 'export' && e.name === 'exporting layers')).to.equal(true);
  });

  it('records the error of a failed step', () => {
    const failed = chromeTrace(failedBuild()).traceEvents.find((e) => e.ph === 'X');
    expect(failed?.args?.state).to.equal('error');
    expect(String(failed?.args?.error)).to.match(/exit code: 1/);
  });
});

describe('build --report: HTML report', () => {
  const html = htmlReport(successfulBuild());

  it('is one self-contained page: inline style and SVG, no URLs, no scripts from elsewhere', () => {
    expect(html.startsWith('<!DOCTYPE html>')).to.equal(true);
    expect(html).not.to.match(/https?:/);
    expect(html).not.to.match(/<script[^>]*src=|<link /);
    expect(html).to.include('<style>');
    expect(html.match(/<svg class=/g)).to.have.length(2); // the graph and the timeline (whose bars are nested svgs)
  });

  it('names every vertex and every explanation, escaped', () => {
    for (const name of ['[numbers 1/2] FROM docker.io/library/busybox:latest', '[numbers 2/2] RUN seq 1 3', '[words 2/2] RUN printf "alpha"', '[stage-2 2/2] COPY --from=numbers /numbers /data/']) {
      expect(html).to.include(name.replace(/"/g, '&quot;'));
    }
    expect(html).to.include('instruction changed: &quot;seq 1 2&quot; → &quot;seq 1 3&quot;');
    expect(html).to.include('input &quot;[numbers 2/2] RUN seq 1 3&quot; changed');
    expect(html).to.include('JSONArgsRecommended: JSON arguments recommended for CMD (Dockerfile:9)');
  });

  it('draws the DAG edges and a timeline bar per step that ran, and counts the cache hits', () => {
    const dag = html.slice(html.indexOf('<svg class="dag"'), html.indexOf('</svg>') + 6);
    expect(dag.match(/class="edge"/g)).to.have.length(4);
    expect(dag.match(/<g class="node /g)).to.have.length(4);
    const timeline = html.slice(html.indexOf('<svg class="timeline"'));
    expect(timeline.match(/<g class="bar /g)).to.have.length(4); // three steps and the export
    expect(html).to.include('4 steps, 1 from the cache');
    expect(html).to.match(/<tr class="cached"><td>1<\/td>.*<td>CACHED<\/td>/);
  });

  it('reports a failed build with the failing command’s output in its own section, not in "why it ran"', () => {
    const failed = htmlReport(failedBuild());
    expect(failed).to.include('failed</span> after 0.1s at step #2.'); // the error itself is in the step's section, said once
    expect(failed.match(/<p>Build .*<\/p>/)![0]).not.to.include('did not complete');
    const section = failed.slice(failed.indexOf('<h2 class="failed">#2 [2/2] RUN false failed</h2>'));
    expect(section).to.match(/^<h2 class="failed">/);
    expect(section).to.match(/error: <code>process &quot;\/bin\/sh -c false&quot; did not complete successfully: exit code: 1<\/code>/);
    expect(section).to.match(/<pre class="output">about to fail<\/pre>/);
    const row = failed.match(/<tr class="error">.*<\/tr>/)![0];
    expect(row).to.include('<td>ERROR</td>');
    expect(row).to.match(/<td class="why"><\/td>/);
  });

  it('escapes a failed step’s output', () => {
    const events = failedBuild();
    events.splice(3, 0, { type: 'vertex.log', time: events[3]!.time, id: (events[2] as { id: string }).id, name: '[2/2] RUN false', stream: 'stdout', data: '<script>alert(1)</script>\n' });
    const failed = htmlReport(events);
    expect(failed).not.to.include('<script>');
    expect(failed).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('labels the timeline axis with increasing, distinct times', () => {
    for (const html of [htmlReport(failedBuild()), htmlReport(successfulBuild())]) {
      const labels = [...html.matchAll(/<text class="tick"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!);
      expect(labels.length).to.be.at.least(3);
      const ms = labels.map((l) => {
        const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(l);
        expect(m, l).to.not.equal(null);
        return Number(m![1]) * (m![2] === 's' ? 1000 : 1);
      });
      for (let i = 1; i < ms.length; i++) expect(ms[i]).to.be.greaterThan(ms[i - 1]!);
    }
    for (const span of [7, 120, 999, 1000, 1234, 7300, 65_000]) {
      const ticks = axisTicks(span);
      const labels = ticks.map((t) => tickLabel(t, span));
      expect(new Set(labels).size, `${span}: ${labels.join(' ')}`).to.equal(labels.length);
      expect(ticks[ticks.length - 1]).to.be.at.most(span);
      expect(ticks.length).to.be.within(3, 11);
    }
    expect(axisTicks(120).map((t) => tickLabel(t, 120))).to.deep.equal(['0ms', '20ms', '40ms', '60ms', '80ms', '100ms', '120ms']);
    expect(axisTicks(7300).map((t) => tickLabel(t, 7300))).to.deep.equal(['0s', '2s', '4s', '6s']);
  });

  it('fills the page\'s width with the timeline: bars and ticks placed in percent of the build\'s span', () => {
    const timeline = html.slice(html.indexOf('<svg class="timeline"'), html.lastIndexOf('</svg>') + 6);
    expect(timeline).to.match(/^<svg class="timeline" width="100%" height="\d+"/);
    const bars = [...timeline.matchAll(/<svg x="([\d.]+)%" y="\d+" width="([\d.]+)%"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(bars).to.have.length(4);
    for (const [x, w] of bars) expect(x! + w!).to.be.within(0, 100.01);
    const ticks = [...timeline.matchAll(/<text class="tick" x="([\d.]+)%"/g)].map((m) => Number(m[1]));
    expect(ticks[0]).to.equal(0);
    expect(ticks[ticks.length - 1]).to.be.at.most(100);
  });

  it('has a colour legend and keeps whole step names in the graph (wrapped, with a hover title)', () => {
    expect(html).to.match(/<p class="legend">.*<i class="cached"><\/i>from the cache.*<i class="error"><\/i>failed/);
    const dag = html.slice(html.indexOf('<svg class="dag"'), html.indexOf('</svg>') + 6);
    expect(dag).to.include('<title>#4 [stage-2 2/2] COPY --from=numbers /numbers /data/');
    expect(dag).to.match(/<tspan[^>]*>#4 \[stage-2 2\/2\]<\/tspan><tspan[^>]*>COPY --from=numbers \/numbers…<\/tspan>/);
    expect(html).to.match(/svg\.dag\{max-width:100%/);
  });

  it('draws a step from when its work began: its end less the solver\'s duration, not an earlier start event', () => {
    const events = successfulBuild();
    // A step announced at 0.44s whose work took the last 30 ms of the 50 until it completed.
    const i = events.findIndex((e) => e.type === 'vertex.completed' && e.id === FINAL);
    const completed = events[i] as { time: number; durationMs: number };
    events[i] = { ...(events[i] as object), durationMs: 30 } as (typeof events)[number];
    const bar = assignLanes(activeVertices(modelOf(events)), T0 + 10_000).find((t) => t.vertex.id === FINAL)!;
    expect(bar.start).to.equal(completed.time - 30);
    expect(bar.end).to.equal(completed.time);
  });
});
