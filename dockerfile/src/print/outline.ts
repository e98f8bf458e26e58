/**
 * `printOutline`: a human summary of a stage graph — each stage with its
 * base, platform and steps (line numbers, expanded values), which stages the
 * target reaches, the build args in use, and the warnings at `file:line:col`.
 */
import type { StageGraph, Step } from '../stages/index.js';
import { baseLabel, location, platformLabel, sourceLabel, stageLabel } from './describe.js';

export function printOutline(graph: StageGraph): string {
  const reach = new Set(graph.reachable);
  const out: string[] = [];
  out.push(`target: ${stageLabel(graph.target)} (reaches ${graph.reachable.map((i) => stageLabel(graph.stages[i]!)).join(', ')})`);
  if (graph.buildArgs.length) out.push(`build args: ${graph.buildArgs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (graph.unusedBuildArgs.length) out.push(`unused build args: ${graph.unusedBuildArgs.join(' ')}`);
  for (const s of graph.stages) {
    out.push('');
    out.push(`stage ${stageLabel(s)}${reach.has(s.index) ? '' : ' (unreachable: never runs)'}`);
    out.push(`  from ${baseLabel(graph, s)}  platform ${platformLabel(s)}  (line ${s.fromRange.start.line})`);
    for (const step of s.steps) out.push(`  ${String(step.range.start.line).padStart(4)}  ${describeStep(graph, step)}${step.onbuild ? '  (ONBUILD trigger)' : ''}`);
  }
  if (graph.warnings.length) {
    out.push('');
    out.push('warnings:');
    for (const w of graph.warnings) out.push(`  ${location(graph.file, w.range)}: ${w.rule}: ${w.message}`);
  }
  return `${out.join('\n')}\n`;
}

/** One line per step: the keyword and its arguments after expansion. */
export function describeStep(graph: StageGraph, step: Step): string {
  const e = step.expanded;
  switch (e.kind) {
    case 'RUN': {
      const cmd = e.command.form === 'shell' ? e.command.command : JSON.stringify(e.command.args);
      const mounts = e.mounts.map((m) => ` --mount=type=${m.type}${m.target ? `,target=${m.target}` : ''}${m.fromSource ? ` from ${sourceLabel(graph, m.fromSource)}` : ''}`);
      return `RUN${mounts.join('')} ${cmd}`;
    }
    case 'COPY':
    case 'ADD':
      return `${e.kind}${e.from ? ` --from=${sourceLabel(graph, e.from)}` : ''}${e.chown ? ` --chown=${e.chown}` : ''}${e.chmod ? ` --chmod=${e.chmod}` : ''} ${[...e.sources, e.dest].join(' ')}`;
    case 'ENV':
    case 'LABEL':
      return `${e.kind} ${e.pairs.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`;
    case 'ARG':
      return `ARG ${e.args.map(([k, v]) => (v === undefined ? k : `${k}=${JSON.stringify(v)}`)).join(' ')}`;
    case 'WORKDIR':
      return `WORKDIR ${e.path}`;
    case 'USER':
      return `USER ${e.user}`;
    case 'EXPOSE':
      return `EXPOSE ${e.ports.join(' ')}`;
    case 'VOLUME':
      return `VOLUME ${e.volumes.join(' ')}`;
    case 'STOPSIGNAL':
      return `STOPSIGNAL ${e.signal}`;
    case 'CMD':
    case 'ENTRYPOINT':
      return `${e.kind} ${JSON.stringify(e.command)}`;
    case 'SHELL':
      return `SHELL ${JSON.stringify(e.shell)}`;
    default:
      return `${e.kind} ${e.value}`;
  }
}
