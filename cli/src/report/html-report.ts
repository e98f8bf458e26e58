/**
 * `--report FILE.html`: one self-contained page about a finished build — the
 * DAG, a timeline of what ran in parallel, which steps hit the cache, and for
 * each rebuilt step why it missed. Inline CSS and SVG only, no scripts from
 * anywhere and no URLs (warning doc links are left out on purpose), so it can
 * be attached to a CI run and opened offline. Pure: events → HTML text.
 */
import type { BuildEvent } from '@tsbuild/builder';
import { formatWarning, seconds } from '../progress/format.js';
import { activeVertices, modelOf, type VertexRecord } from '../progress/model.js';
import { assignLanes } from '../trace/lanes.js';
import { layoutDag } from './dag-layout.js';
import { dagSvg, escapeHtml, timelineSvg } from './svg.js';

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
.ok{color:#1a7f37}.failed{color:#cf222e}
svg text{font:12px monospace;fill:#111}
.edge{fill:none;stroke:#888;stroke-width:1.5}
.node rect,.bar rect{stroke:#555;stroke-width:1}
.cached rect{fill:#d8f3dc}.done rect{fill:#cfe2ff}.error rect{fill:#ffd6d6}.running rect{fill:#fff3bf}.planned rect{fill:#eee}
table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left;vertical-align:top}
td.why{font-family:monospace;white-space:pre-wrap}.tick{fill:#666}
svg.dag{max-width:100%;height:auto;display:block}
svg.timeline{display:block;overflow:visible}.bar rect{width:calc(100% - 1px)}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;height:12px;border:1px solid #555;margin-right:4px;vertical-align:-1px}
.legend .cached{background:#d8f3dc}.legend .done{background:#cfe2ff}.legend .error{background:#ffd6d6}.legend .running{background:#fff3bf}.legend .planned{background:#eee}
pre.output{background:#f6f8fa;border:1px solid #ddd;padding:8px;overflow-x:auto;white-space:pre-wrap;word-break:break-all;max-height:480px}
`;

export function htmlReport(events: BuildEvent[], options: { title?: string } = {}): string {
  const model = modelOf(events);
  const t0 = model.started ?? 0;
  const t1 = model.ended ?? Math.max(t0, ...events.map((e) => e.time));
  const all = [...model.vertices.values()].filter((v) => !v.export);
  const active = activeVertices(model);
  const timed = assignLanes(active, t1);
  const cached = active.filter((v) => v.state === 'cached').length;
  const result = model.result;
  const failedStep = active.find((v) => v.state === 'error');
  // A failed step's error and output get their own section just below; only a failure outside any step is told here.
  const cause = failedStep ? ` at step #${failedStep.index}` : result && !result.ok ? `: ${escapeHtml(result.message)}` : '';
  const status = !result ? '<span class="failed">incomplete</span>'
    : result.ok ? `<span class="ok">succeeded</span> in ${seconds(result.durationMs)}`
    : `<span class="failed">failed</span> after ${seconds(result.durationMs)}${cause}`;
  const image = result?.ok && result.digest ? `<p>Image <code>${escapeHtml(result.digest)}</code>${result.tags.length ? ` tagged ${result.tags.map((t) => `<code>${escapeHtml(t)}</code>`).join(', ')}` : ''}</p>` : '';
  const title = escapeHtml(options.title ?? 'tsbuild build report');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title><style>${STYLE}</style></head>
<body>
<h1>${title}</h1>
<p>Build ${status}. ${active.filter((v) => !v.export).length} steps, ${cached} from the cache.</p>
${image}
${failedOutputs(active)}
<h2>Graph</h2>
${LEGEND}
${dagSvg(layoutDag(all))}
<h2>Timeline</h2>
${timelineSvg(timed, t0, t1)}
<h2>Steps</h2>
<table><thead><tr><th>#</th><th>Step</th><th>Result</th><th>Time</th><th>Why it ran</th></tr></thead><tbody>
${active.map(stepRow).join('\n')}
</tbody></table>
${warningsSection(model.warnings.map(formatWarning))}
</body></html>
`;
}

function stepRow(v: VertexRecord): string {
  const result = v.state === 'cached' ? 'CACHED' : v.state === 'error' ? 'ERROR' : v.state === 'done' ? 'built' : v.state;
  const time = v.state === 'cached' ? '' : v.durationMs !== undefined ? seconds(v.durationMs) : '';
  const why = v.state === 'cached' ? '' : v.explain.join('\n');
  return `<tr class="${v.state}"><td>${v.index}</td><td>${escapeHtml(v.name)}</td><td>${result}</td><td>${time}</td><td class="why">${escapeHtml(why)}</td></tr>`;
}

const LEGEND = `<p class="legend">${[['cached', 'from the cache'], ['done', 'built'], ['error', 'failed'], ['running', 'unfinished'], ['planned', 'not run']]
  .map(([state, text]) => `<span><i class="${state}"></i>${text}</span>`).join('')}</p>`;

/** Lines of a failed step's output shown in the report: its tail, where the cause usually is. */
const OUTPUT_LINES = 200;

/**
 * One section per failed step: its error and the tail of its output (stdout
 * and stderr as they arrived), escaped — the "why it ran" column keeps only the
 * rebuild reasons.
 */
function failedOutputs(active: VertexRecord[]): string {
  return active.filter((v) => v.state === 'error').map((v) => {
    const lines = v.logs.slice(-OUTPUT_LINES).map((l) => l.line);
    const omitted = v.logs.length > OUTPUT_LINES ? `… ${v.logs.length - OUTPUT_LINES} earlier lines not shown\n` : '';
    const output = lines.length ? `<pre class="output">${escapeHtml(omitted + lines.join('\n'))}</pre>` : '<p>(no output)</p>';
    return `<h2 class="failed">#${v.index} ${escapeHtml(v.name)} failed</h2>\n<p>error: <code>${escapeHtml(v.error ?? '')}</code></p>\n${output}`;
  }).join('\n');
}

function warningsSection(lines: string[]): string {
  if (lines.length === 0) return '';
  return `<h2>Warnings</h2>\n<ul>${lines.map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>`;
}
