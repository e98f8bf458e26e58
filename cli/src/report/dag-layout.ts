/**
 * Layout of the build DAG for the report: a vertex's column is its depth (the
 * longest path from a source vertex), its row its order within the column.
 * Simple and stable — good enough for Dockerfile graphs, which are mostly a
 * few chains joined by COPY --from. Pure.
 */
import type { VertexRecord } from '../progress/model.js';

export interface LaidOutNode {
  vertex: VertexRecord;
  column: number;
  row: number;
}

export interface DagLayout {
  nodes: LaidOutNode[];
  /** Pairs of node indexes into `nodes`: input → consumer. */
  edges: Array<[from: number, to: number]>;
  columns: number;
  rows: number;
}

export function layoutDag(vertices: VertexRecord[]): DagLayout {
  const byId = new Map(vertices.map((v) => [v.id, v]));
  const depth = new Map<string, number>();
  const visiting = new Set<string>();
  const depthOf = (v: VertexRecord): number => {
    const known = depth.get(v.id);
    if (known !== undefined) return known;
    if (visiting.has(v.id)) return 0; // a cycle cannot happen in a build graph; do not recurse forever if it does
    visiting.add(v.id);
    let d = 0;
    for (const input of v.inputs) {
      const u = byId.get(input);
      if (u) d = Math.max(d, depthOf(u) + 1);
    }
    visiting.delete(v.id);
    depth.set(v.id, d);
    return d;
  };
  const rowsPerColumn: number[] = [];
  const nodes: LaidOutNode[] = vertices.map((vertex) => {
    const column = depthOf(vertex);
    const row = rowsPerColumn[column] ?? 0;
    rowsPerColumn[column] = row + 1;
    return { vertex, column, row };
  });
  const indexOf = new Map(nodes.map((n, i) => [n.vertex.id, i]));
  const edges: Array<[number, number]> = [];
  nodes.forEach((n, to) => {
    for (const input of n.vertex.inputs) {
      const from = indexOf.get(input);
      if (from !== undefined) edges.push([from, to]);
    }
  });
  return { nodes, edges, columns: rowsPerColumn.length, rows: Math.max(0, ...rowsPerColumn) };
}
