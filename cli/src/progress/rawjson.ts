/**
 * The `rawjson` progress UI: BuildKit's RawJSONMode (util/progress/progressui/
 * display.go, rawJSONDisplay.update) writes each client.SolveStatus update as
 * one JSON object per line — `{"vertexes":[…],"statuses":[…],"logs":[…],
 * "warnings":[…]}` with the field names of client/graph.go (Vertex, VertexLog,
 * VertexWarning); `[]byte` fields (log data, a warning's short and detail) are
 * base64, as Go's encoding/json writes them, and times are RFC 3339.
 *
 * Where tsbuild's events differ: an export step is a vertex whose `digest` is
 * the export's id (not a digest); a cache-miss explanation (`vertex.explain`)
 * and the build's end (`build.completed` / `build.failed`) have no SolveStatus
 * counterpart and print nothing; `statuses` (byte progress) is never sent.
 */
import type { BuildEvent } from '@tsbuild/builder';

interface RawVertex {
  digest: string;
  inputs?: string[];
  name: string;
  started?: string;
  completed?: string;
  cached?: boolean;
  error?: string;
}

/** Stateful: a Vertex update repeats its inputs and start time, as BuildKit's do. */
export function createRawJsonRenderer(): { push(event: BuildEvent): string } {
  const inputs = new Map<string, string[]>();
  const started = new Map<string, string>();
  const vertex = (id: string, name: string, more: Partial<RawVertex>): RawVertex => {
    const ins = inputs.get(id);
    const start = started.get(id);
    return { digest: id, ...(ins?.length ? { inputs: ins } : {}), name, ...(start ? { started: start } : {}), ...more };
  };
  const line = (status: object) => JSON.stringify(status) + '\n';
  return {
    push(e) {
      const at = new Date(e.time).toISOString();
      switch (e.type) {
        case 'build.plan':
          for (const v of e.vertices) inputs.set(v.id, v.inputs);
          return line({ vertexes: e.vertices.map((v) => vertex(v.id, v.name, {})) });
        case 'vertex.started':
        case 'export.started':
          started.set(e.id, at);
          return line({ vertexes: [vertex(e.id, e.name, {})] });
        case 'vertex.cached':
          return line({ vertexes: [vertex(e.id, e.name, { started: at, completed: at, cached: true })] });
        case 'vertex.completed':
        case 'export.completed':
          return line({ vertexes: [vertex(e.id, e.name, { completed: at })] });
        case 'vertex.failed':
          return line({ vertexes: [vertex(e.id, e.name, { completed: at, error: e.message })] });
        case 'vertex.log':
          // Stream numbers as BuildKit's: 1 stdout, 2 stderr.
          return line({ logs: [{ vertex: e.id, stream: e.stream === 'stdout' ? 1 : 2, data: Buffer.from(e.data).toString('base64'), timestamp: at }] });
        case 'warning': {
          const w = e.warning;
          return line({ warnings: [{ level: 1, short: Buffer.from(`${w.rule}: ${w.message}`).toString('base64'), ...(w.url ? { url: w.url } : {}) }] });
        }
        default:
          return '';
      }
    },
  };
}
