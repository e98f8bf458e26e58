/**
 * `printDot`: the stage graph as a Graphviz digraph — a node per stage, an
 * edge per dependency labelled FROM / COPY --from / mount, stages the target
 * does not reach drawn grey and dashed.
 */
import type { StageGraph } from '../stages/index.js';
import { baseLabel, platformLabel, stageLabel } from './describe.js';

const quote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
const EDGE_LABEL = { from: 'FROM', copy: 'COPY --from', mount: 'mount' } as const;

export function printDot(graph: StageGraph): string {
  const reach = new Set(graph.reachable);
  const lines = ['digraph stages {', '  rankdir=LR;', '  node [shape=box, fontname="monospace"];'];
  for (const s of graph.stages) {
    const attrs = [`label=${quote(`${stageLabel(s)}\n${baseLabel(graph, s)}\n${platformLabel(s)}`)}`];
    if (s.index === graph.target.index) attrs.push('penwidth=2');
    if (!reach.has(s.index)) attrs.push('color=grey', 'fontcolor=grey', 'style=dashed');
    lines.push(`  s${s.index} [${attrs.join(', ')}];`);
  }
  for (const s of graph.stages) {
    if (s.base.kind !== 'image') continue;
    const id = `img${s.index}`;
    lines.push(`  ${id} [label=${quote(s.base.ref)}, shape=ellipse${reach.has(s.index) ? '' : ', color=grey, fontcolor=grey'}];`);
    lines.push(`  s${s.index} -> ${id} [label="FROM"${reach.has(s.index) ? '' : ', color=grey, fontcolor=grey'}];`);
  }
  const seen = new Set<string>();
  for (const e of graph.edges) {
    const key = `${e.from}-${e.to}-${e.kind}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const grey = reach.has(e.from) ? '' : ', color=grey, fontcolor=grey';
    lines.push(`  s${e.from} -> s${e.to} [label=${quote(EDGE_LABEL[e.kind])}${grey}];`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
